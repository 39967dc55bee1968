// Package weaviatetest runs real Weaviate servers for tests: it builds the
// pinned weaviate-server with go install into a cache directory (once, then
// reused), starts single nodes or loopback clusters with every port set
// explicitly and telemetry off, and stops them afterwards.
//
// When the server cannot be built (no network for the module proxy, say),
// tests that need it are skipped with the reason, unless
// DISTILL_REQUIRE_WEAVIATE=1 (CI), where they fail instead.
package weaviatetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Version is the Weaviate release the tests run against.
const Version = "v1.35.2"

// Module is the package go install builds.
const Module = "github.com/weaviate/weaviate/cmd/weaviate-server"

// EnvRequire makes an unbuildable server a test failure instead of a skip.
const EnvRequire = "DISTILL_REQUIRE_WEAVIATE"

// EnvCache overrides the directory the server binary is cached in.
const EnvCache = "DISTILL_WEAVIATE_CACHE"

// CacheDir is where the server binary of Version is kept.
func CacheDir() (string, error) {
	if d := os.Getenv(EnvCache); d != "" {
		return filepath.Join(d, Version), nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(base, "distill", "weaviate", Version), nil
}

// Install builds the server into the cache directory unless it is there
// already, and returns its path. Concurrent callers (test binaries of
// several packages run at once) wait for one build.
func Install(ctx context.Context, log func(string)) (string, error) {
	dir, err := CacheDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "weaviate-server")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	unlock, err := lock(ctx, filepath.Join(dir, ".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if log != nil {
		log(fmt.Sprintf("building weaviate-server %s into %s (once; several minutes)", Version, dir))
	}
	cmd := exec.CommandContext(ctx, "go", "install", Module+"@"+Version)
	cmd.Dir = tmp // outside any module, so only the pinned version counts
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false", "GOWORK=off")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go install %s@%s: %v\n%s", Module, Version, err, tail(out.String(), 2000))
	}
	if err := os.Rename(filepath.Join(tmp, "weaviate-server"), bin); err != nil {
		return "", err
	}
	return bin, nil
}

// lock takes an exclusive lock file, waiting for another holder; a lock
// older than an hour is a crashed build's and is taken over.
func lock(ctx context.Context, path string) (func(), error) {
	for {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			f.Close()
			return func() { os.Remove(path) }, nil
		}
		if fi, serr := os.Stat(path); serr == nil && time.Since(fi.ModTime()) > time.Hour {
			os.Remove(path)
			continue
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// Binary returns the server binary, building it on first use. It skips the
// test when the build fails, or fails it under DISTILL_REQUIRE_WEAVIATE=1.
func Binary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		defer cancel()
		binPath, binErr = Install(ctx, func(s string) { fmt.Fprintln(os.Stderr, "weaviatetest: "+s) })
	})
	if binErr != nil {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("weaviate-server %s is required (%s=1) but cannot be built: %v", Version, EnvRequire, binErr)
		}
		t.Skipf("skipping: weaviate-server %s cannot be built here (set %s=1 to fail instead): %v", Version, EnvRequire, binErr)
	}
	return binPath
}

// Node is one running weaviate-server.
type Node struct {
	Name string
	Dir  string
	// Ports, all on 127.0.0.1.
	HTTP, GRPC, Gossip, Data, Raft, RaftRPC, Profiling, Metrics int

	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	stopped atomic.Bool
}

// URL is the node's REST endpoint.
func (n *Node) URL() string { return fmt.Sprintf("http://127.0.0.1:%d", n.HTTP) }

// URI is the distill store URI of a collection on this node.
func (n *Node) URI(collection string, opts ...string) string {
	u := fmt.Sprintf("weaviate:%s?collection=%s&grpc=127.0.0.1:%d", n.URL(), collection, n.GRPC)
	for _, o := range opts {
		u += "&" + o
	}
	return u
}

// Log returns the end of the node's log, for failure messages.
func (n *Node) Log() string {
	b, _ := os.ReadFile(n.logPath)
	return tail(string(b), 4000)
}

// Kill stops the node at once, as a crash would.
func (n *Node) Kill() {
	if n.stopped.Swap(true) {
		return
	}
	n.cmd.Process.Kill()
	<-n.done
}

// Stop shuts the node down cleanly, killing it if it takes too long.
func (n *Node) Stop() {
	if n.stopped.Swap(true) {
		return
	}
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(15 * time.Second):
		n.cmd.Process.Kill()
		<-n.done
	}
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	out := make([]int, n)
	for i := range out {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		out[i] = l.Addr().(*net.TCPAddr).Port
	}
	return out, nil
}

// portPair finds two free adjacent ports: in a loopback cluster Weaviate
// reaches a node's Raft RPC port at its Raft port + 1, and its data port
// at its gossip port + 1.
func portPair() (int, error) {
	for i := 0; i < 50; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		p := l.Addr().(*net.TCPAddr).Port
		l2, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+1))
		l.Close()
		if err == nil {
			l2.Close()
			return p, nil
		}
	}
	return 0, errors.New("no two adjacent free ports")
}

func newNode(name, dir string) (*Node, error) {
	p, err := freePorts(4)
	if err != nil {
		return nil, err
	}
	gossip, err := portPair()
	if err != nil {
		return nil, err
	}
	raft, err := portPair()
	if err != nil {
		return nil, err
	}
	return &Node{Name: name, Dir: dir, HTTP: p[0], GRPC: p[1], Profiling: p[2], Metrics: p[3],
		Gossip: gossip, Data: gossip + 1, Raft: raft, RaftRPC: raft + 1}, nil
}

// env is the node's configuration: every port explicit, bound to loopback
// where Weaviate allows it (gRPC, data and profiling listen on all
// interfaces whatever one sets; profiling is therefore off), no modules,
// no telemetry.
func (n *Node) env(join string, raftJoin []string) []string {
	env := []string{
		"PERSISTENCE_DATA_PATH=" + filepath.Join(n.Dir, "data"),
		"AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true",
		"DEFAULT_VECTORIZER_MODULE=none",
		"ENABLE_MODULES=",
		"DISABLE_TELEMETRY=true",
		"LOG_LEVEL=warning",
		"LOG_FORMAT=text",
		"QUERY_DEFAULTS_LIMIT=25",
		"CLUSTER_HOSTNAME=" + n.Name,
		"CLUSTER_IN_LOCALHOST=true",
		"CLUSTER_BIND_ADDR=127.0.0.1",
		"CLUSTER_ADVERTISE_ADDR=127.0.0.1",
		"CLUSTER_GOSSIP_BIND_PORT=" + strconv.Itoa(n.Gossip),
		"CLUSTER_DATA_BIND_PORT=" + strconv.Itoa(n.Data),
		"RAFT_PORT=" + strconv.Itoa(n.Raft),
		"RAFT_INTERNAL_RPC_PORT=" + strconv.Itoa(n.RaftRPC),
		"RAFT_JOIN=" + strings.Join(raftJoin, ","),
		"RAFT_BOOTSTRAP_EXPECT=" + strconv.Itoa(len(raftJoin)),
		"GRPC_PORT=" + strconv.Itoa(n.GRPC),
		"GO_PROFILING_PORT=" + strconv.Itoa(n.Profiling),
		"GO_PROFILING_DISABLE=true",
		"PROMETHEUS_MONITORING_ENABLED=false",
		"PROMETHEUS_MONITORING_PORT=" + strconv.Itoa(n.Metrics),
		"GOMAXPROCS=2",
		// Weaviate 1.35's BlockMax WAND misses top BM25 hits at small
		// limits (see docs/weaviate.md); the classic WAND does not.
		"USE_INVERTED_SEARCHABLE=false",
	}
	if join != "" {
		env = append(env, "CLUSTER_JOIN="+join)
	}
	return env
}

func (n *Node) start(bin, join string, raftJoin []string) error {
	if err := os.MkdirAll(n.Dir, 0o755); err != nil {
		return err
	}
	n.logPath = filepath.Join(n.Dir, "weaviate.log")
	logf, err := os.Create(n.logPath)
	if err != nil {
		return err
	}
	n.cmd = exec.Command(bin, "--host", "127.0.0.1", "--port", strconv.Itoa(n.HTTP), "--scheme", "http")
	n.cmd.Dir = n.Dir
	n.cmd.Env = append(baseEnv(), n.env(join, raftJoin)...)
	n.cmd.Stdout, n.cmd.Stderr = logf, logf
	setProcAttr(n.cmd)
	if err := n.cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	n.done = make(chan struct{})
	go func() {
		n.cmd.Wait()
		logf.Close()
		close(n.done)
	}()
	return nil
}

// baseEnv is the test process's environment without Weaviate settings that
// would leak into the server.
func baseEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "CLUSTER_"), strings.HasPrefix(k, "RAFT_"), strings.HasPrefix(k, "PERSISTENCE_"),
			strings.HasPrefix(k, "AUTHENTICATION_"), strings.HasPrefix(k, "AUTHORIZATION_"), k == "GRPC_PORT",
			strings.HasPrefix(k, "GO_PROFILING"), strings.HasPrefix(k, "PROMETHEUS_"), k == "ENABLE_MODULES":
			continue
		}
		out = append(out, kv)
	}
	return out
}

func waitListening(n *Node, port int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-n.done:
			return fmt.Errorf("weaviate node %s exited while starting:\n%s", n.Name, n.Log())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("weaviate node %s does not listen on %d after %s:\n%s", n.Name, port, timeout, n.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitReady polls until every node is ready and sees all of them.
func waitReady(nodes []*Node, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	for _, n := range nodes {
		for {
			for _, m := range nodes {
				select {
				case <-m.done:
					return fmt.Errorf("weaviate node %s exited while starting:\n%s", m.Name, m.Log())
				default:
				}
			}
			if ready(client, n, len(nodes)) {
				break
			}
			if time.Now().After(deadline) {
				var logs strings.Builder
				for _, m := range nodes {
					fmt.Fprintf(&logs, "--- %s (%s):\n%s\n", m.Name, m.Dir, m.Log())
				}
				return fmt.Errorf("weaviate node %s not ready after %s:\n%s", n.Name, timeout, logs.String())
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return nil
}

func ready(client *http.Client, n *Node, want int) bool {
	resp, err := client.Get(n.URL() + "/v1/.well-known/ready")
	if err != nil {
		return false
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return false
	}
	if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", n.GRPC), time.Second); err != nil {
		return false
	} else {
		c.Close()
	}
	resp, err = client.Get(n.URL() + "/v1/nodes")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var nodes struct {
		Nodes []struct {
			Name   string `json:"name"`
			Status string `json:"status"`
		} `json:"nodes"`
	}
	if json.NewDecoder(resp.Body).Decode(&nodes) != nil {
		return false
	}
	healthy := 0
	for _, x := range nodes.Nodes {
		if x.Status == "HEALTHY" {
			healthy++
		}
	}
	return healthy >= want
}

// StartCluster starts size nodes on loopback that form one cluster (Raft
// and memberlist), waits until each sees all of them healthy, and stops
// them when the test ends.
func StartCluster(t testing.TB, size int) []*Node {
	t.Helper()
	nodes, stop, err := startCluster(Binary(t), size)
	if err != nil {
		t.Fatalf("start a %d-node weaviate cluster: %v", size, err)
	}
	t.Cleanup(stop)
	return nodes
}

func startCluster(bin string, size int) ([]*Node, func(), error) {
	root, err := os.MkdirTemp("", "distill-weaviate-")
	if err != nil {
		return nil, nil, err
	}
	nodes := make([]*Node, size)
	var raftJoin []string
	for i := range nodes {
		n, err := newNode(fmt.Sprintf("node%d", i), filepath.Join(root, fmt.Sprintf("node%d", i)))
		if err != nil {
			return nil, nil, err
		}
		nodes[i] = n
		raftJoin = append(raftJoin, fmt.Sprintf("%s:%d", n.Name, n.Raft))
	}
	stopAll := func() {
		for _, n := range nodes {
			if n.cmd != nil {
				n.Stop()
			}
		}
		os.RemoveAll(root)
	}
	for i, n := range nodes {
		join := ""
		if size > 1 {
			join = fmt.Sprintf("127.0.0.1:%d", nodes[0].Gossip)
			if i == 0 {
				join = ""
			}
		}
		if err := n.start(bin, join, raftJoin); err != nil {
			stopAll()
			return nil, nil, err
		}
		if i == 0 && size > 1 {
			// The others join through node0's gossip port, and give up
			// at once if it is not listening yet.
			if err := waitListening(n, n.Gossip, time.Minute); err != nil {
				stopAll()
				return nil, nil, err
			}
		}
	}
	if err := waitReady(nodes, 3*time.Minute); err != nil {
		stopAll()
		return nil, nil, err
	}
	return nodes, stopAll, nil
}

var (
	sharedMu   sync.Mutex
	shared     *Node
	sharedStop func()
	sharedErr  error
)

// Shared returns one single-node server for the whole test binary, started
// on first use; call StopShared from TestMain after the tests ran.
func Shared(t testing.TB) *Node {
	t.Helper()
	bin := Binary(t)
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared == nil && sharedErr == nil {
		var nodes []*Node
		nodes, sharedStop, sharedErr = startCluster(bin, 1)
		if sharedErr == nil {
			shared = nodes[0]
		}
	}
	if sharedErr != nil {
		t.Fatalf("start weaviate: %v", sharedErr)
	}
	return shared
}

// StopShared stops the shared server, if one was started.
func StopShared() {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if sharedStop != nil {
		sharedStop()
		sharedStop, shared = nil, nil
	}
}

// Main runs a test binary's tests and stops the shared server afterwards;
// use it as TestMain: func TestMain(m *testing.M) { weaviatetest.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	StopShared()
	os.Exit(code)
}

var collections atomic.Int64

// Collection returns a collection name no other test of this process uses.
func Collection(t testing.TB) string {
	var b strings.Builder
	b.WriteString("T")
	for _, r := range t.Name() {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	s := b.String()
	if len(s) > 40 {
		s = s[:40]
	}
	return fmt.Sprintf("%s%d_%d", s, os.Getpid()%100000, collections.Add(1))
}
