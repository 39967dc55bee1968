package cli

import (
	"time"

	"github.com/schollz/progressbar/v3"
)

// progressBar is a count shown on a terminal; without one it does nothing.
type progressBar struct{ bar *progressbar.ProgressBar }

// progress returns a bar on stderr when it is a terminal and the output is
// for people.
func (a *app) progress(label string) *progressBar {
	if a.jsonOut || !isTerminal(a.stderr) {
		return &progressBar{}
	}
	return &progressBar{progressbar.NewOptions64(-1, progressbar.OptionSetWriter(a.stderr), progressbar.OptionSetDescription(label),
		progressbar.OptionShowCount(), progressbar.OptionClearOnFinish(), progressbar.OptionSetWidth(30))}
}

// spinner returns a spinner with the elapsed time on stderr when it is a
// terminal, for work whose size is not known; it redraws on its own, so a
// long step still shows the time passing.
func (a *app) spinner(label string) *progressBar {
	if a.jsonOut || !isTerminal(a.stderr) {
		return &progressBar{}
	}
	bar := progressbar.NewOptions64(-1, progressbar.OptionSetWriter(a.stderr), progressbar.OptionSetDescription(label),
		progressbar.OptionSetElapsedTime(true), progressbar.OptionClearOnFinish(), progressbar.OptionSetWidth(10),
		progressbar.OptionSetSpinnerChangeInterval(250*time.Millisecond))
	bar.Add(1) // started: the ticker draws only a started bar
	return &progressBar{bar}
}

// describe changes the label.
func (p *progressBar) describe(label string) {
	if p.bar != nil {
		p.bar.Describe(label)
		p.bar.Add(0) // draws the new label now, not at the next tick
	}
}

func (p *progressBar) set(done, total int) {
	if p.bar != nil {
		p.bar.ChangeMax(total)
		p.bar.Set(done)
	}
}

func (p *progressBar) finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}
