package openai

import "strconv"

func itoa(n int) string { return strconv.Itoa(n) }

func positive(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, strconv.ErrRange
	}
	return n, nil
}
