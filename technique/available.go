package technique

// unavailable is implemented by stages that stand for a retriever or
// compressor whose model is not configured.
type unavailable interface{ Unavailable() error }

// Unavailable returns why the technique cannot run (a stage needs a model
// that is not configured), or nil when it can.
func (t *Technique) Unavailable() error {
	if u, ok := t.Retriever.(unavailable); ok {
		if err := u.Unavailable(); err != nil {
			return err
		}
	}
	for _, c := range t.Compressors {
		if u, ok := c.Compressor.(unavailable); ok {
			if err := u.Unavailable(); err != nil {
				return err
			}
		}
	}
	return nil
}
