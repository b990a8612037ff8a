package stockxlsx

import (
	"errors"
	"io"
	"time"

	"github.com/repairbot/repairbot/flows"
)

// Files are the spreadsheets as the engine asks for them
// (flows.PartsFiles): the catalog read from an upload and written for an
// export, and the monthly stock report, in the catalogs' languages.
type Files struct {
	Texts flows.Texts
}

var _ flows.PartsFiles = Files{}

// ReadCatalog implements flows.PartsFiles.
func (f Files) ReadCatalog(r io.Reader) flows.CatalogUpload {
	return upload{c: ReadCatalog(r, f.Texts), t: f.Texts}
}

// WriteCatalog implements flows.PartsFiles.
func (f Files) WriteCatalog(w io.Writer, tx flows.PartsTx, lang flows.Lang) error {
	return WriteCatalog(w, tx, f.Texts, lang)
}

// WriteStockReport implements flows.PartsFiles.
func (f Files) WriteStockReport(w io.Writer, tx flows.PartsTx, from, to time.Time, month string, lang flows.Lang) error {
	return WriteMonthlyStock(w, tx, from, to, month, f.Texts, lang)
}

type upload struct {
	c *Catalog
	t flows.Texts
}

// Import implements flows.CatalogUpload: all rows or none, every problem
// rendered with its row and column.
func (u upload) Import(tx flows.PartsTx, p flows.Posting, lang flows.Lang) (int, []string, flows.StockResult, error) {
	errs, res, err := u.c.Import(tx, p)
	if errors.Is(err, ErrRefused) {
		out := make([]string, len(errs))
		for i, e := range errs {
			out[i] = e.Text(u.t, lang)
		}
		return 0, out, res, nil
	}
	if err != nil {
		return 0, nil, res, err
	}
	return len(u.c.Parts), nil, res, nil
}
