package distill

import (
	"os"

	"github.com/distill-rag/distill/config"
)

// StoreURI picks the collection's store: Options.Store (--store), then
// Options.DB (--db), then $DISTILL_STORE, then the configuration's store,
// then DefaultDB() (which reads $DISTILL_DB).
func StoreURI(opts Options, cfg *config.Config) string {
	switch {
	case opts.Store != "":
		return opts.Store
	case opts.DB != "":
		return opts.DB
	case os.Getenv("DISTILL_STORE") != "":
		return os.Getenv("DISTILL_STORE")
	case cfg != nil && cfg.Store != "":
		return cfg.Store
	}
	return DefaultDB()
}
