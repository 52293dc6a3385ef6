package web

import (
	"os"
	"path/filepath"
)

// StoreUpload writes b as dir/<sum> (0600, directories 0700) unless a
// file of that hash is already there. The write goes through a temporary
// file and a rename, so a reader never sees half a file.
func StoreUpload(dir, sum string, b []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	final := filepath.Join(dir, sum)
	if fi, err := os.Stat(final); err == nil && fi.Mode().IsRegular() && fi.Size() == int64(len(b)) {
		return nil
	}
	f, err := os.CreateTemp(dir, "."+sum+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
