//go:build !linux

package weaviatetest

import "os/exec"

func setProcAttr(*exec.Cmd) {}
