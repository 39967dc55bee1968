package loader

import (
	"reflect"
	"testing"
)

func TestDropFurniture(t *testing.T) {
	cases := []struct {
		name string
		in   []string
		want []string
	}{
		{
			name: "running header and numbered footer",
			in: []string{
				"ACME Corp Annual Report\nFirst page text runs on\nPage 1 of 3",
				"ACME Corp Annual Report\nto the second page.\nPage 2 of 3",
				"ACME Corp Annual Report\nThe end.\nPage 3 of 3",
			},
			want: []string{"First page text runs on", "to the second page.", "The end."},
		},
		{
			name: "a line that repeats in the body stays",
			in: []string{
				"Intro\nfirst\nWe thank our customers.\nmore\nand more\ntext 1",
				"Body\nsecond\nWe thank our customers.\nmore\nand more\ntext 2",
				"Close\nthird\nWe thank our customers.\nmore\nand more\ntext 3",
			},
			want: []string{
				"Intro\nfirst\nWe thank our customers.\nmore",
				"Body\nsecond\nWe thank our customers.\nmore",
				"Close\nthird\nWe thank our customers.\nmore",
			},
		},
		{
			name: "repeated on fewer than half the pages stays",
			in:   []string{"Header\na", "Header\nb", "c\nd", "e\nf", "g\nh", "k\nl"},
			want: []string{"Header\na", "Header\nb", "c\nd", "e\nf", "g\nh", "k\nl"},
		},
		{
			name: "a short document loses only page numbers",
			in:   []string{"Title\nText\n- 1 -", "More text\nii"},
			want: []string{"Title\nText", "More text"},
		},
		{
			name: "a year is not a page number",
			in:   []string{"Letter\nSigned, 2021", "Thanks\n2021"},
			want: []string{"Letter\nSigned, 2021", "Thanks\n2021"},
		},
		{
			name: "words that look like numerals stay",
			in:   []string{"civil\nmix", "x\nvivid"},
			want: []string{"civil\nmix", "vivid"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := dropFurniture(c.in); !reflect.DeepEqual(got, c.want) {
				t.Errorf("dropFurniture:\n got %q\nwant %q", got, c.want)
			}
		})
	}
}
