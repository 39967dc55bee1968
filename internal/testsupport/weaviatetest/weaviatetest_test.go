package weaviatetest

import (
	"net/http"
	"testing"
)

func TestSingleNode(t *testing.T) {
	nodes := StartCluster(t, 1)
	n := nodes[0]
	resp, err := http.Get(n.URL() + "/v1/meta")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /v1/meta: %s", resp.Status)
	}
	n.Stop()
	if _, err := http.Get(n.URL() + "/v1/meta"); err == nil {
		t.Fatal("node still answers after Stop")
	}
}

func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three servers")
	}
	nodes := StartCluster(t, 3)
	for _, n := range nodes {
		if !ready(http.DefaultClient, n, 3) {
			t.Fatalf("%s does not see three healthy nodes", n.Name)
		}
	}
}
