package weaviatetest

import (
	"os/exec"
	"syscall"
)

// setProcAttr makes the server die with the test process, so a test binary
// killed by a timeout leaves no server behind.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
