//go:build !unix

package extractcmd

import "os"

// mapFile reports that files are not mapped here: the caller reads them.
func mapFile(f *os.File, size int64) (data []byte, unmap func(), ok bool) {
	return nil, nil, false
}
