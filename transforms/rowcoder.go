package transforms

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/syllabus-dev/syllabus/transforms/release"
)

// A release.Row made by release.NewRow for a Parquet table carries its
// record in an unexported field, not as JSON, so that the stage that makes
// it writes the record with no JSON made (rows are written where they are
// made: writeRowsWhereMade). Beam's schema coder, which Beam would infer for
// Row, skips unexported fields: a row that crossed a stage boundary would
// arrive with neither record nor JSON. Rows crossing (the catalogue row
// made at graph construction, or any a runner chooses not to fuse) use
// this coder instead: table, key and the record's JSON (Row.RecordJSON),
// decoded into a Row that holds JSON, which the writer decodes.
func init() {
	beam.RegisterCoder(reflect.TypeFor[release.Row](), encodeRow, decodeRow)
}

// encodeRow writes len(table), table, len(key), key (lengths as uvarints),
// then the JSON to the end.
func encodeRow(r release.Row) ([]byte, error) {
	data, err := r.RecordJSON()
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 2*binary.MaxVarintLen64+len(r.Table)+len(r.Key)+len(data))
	b = binary.AppendUvarint(b, uint64(len(r.Table)))
	b = append(b, r.Table...)
	b = binary.AppendUvarint(b, uint64(len(r.Key)))
	b = append(b, r.Key...)
	return append(b, data...), nil
}

var errBadRow = errors.New("transforms: a release row's encoding is cut short")

func decodeRow(b []byte) (release.Row, error) {
	var r release.Row
	var err error
	if r.Table, b, err = cutString(b); err != nil {
		return r, err
	}
	if r.Key, b, err = cutString(b); err != nil {
		return r, err
	}
	if len(b) > 0 {
		r.JSON = bytes.Clone(b)
	}
	return r, nil
}

func cutString(b []byte) (string, []byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n {
		return "", nil, errBadRow
	}
	return string(b[k : k+int(n)]), b[k+int(n):], nil
}
