package cli

import "github.com/schollz/progressbar/v3"

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
