package audit

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"tongxin/internal/pii"

	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// The chain's key. Rows are HMAC-SHA256 under a secret kept outside the
// database, in DATA_DIR/audit.key, so that whoever can write the database
// but not read that file cannot re-hash rows they changed. The file also
// says from which row the chain is keyed: rows written before the key
// existed (before this version) keep their plain SHA-256, and that number
// is outside the database too, so it cannot be moved to pass a re-hashed
// chain off as old. At start the head row must carry the key's HMAC (or,
// without a key file, plain SHA-256), so that an instance with another key
// refuses to append to the chain instead of forking it.

// KeyFileName is the key file inside the data directory.
const KeyFileName = "audit.key"

const (
	keyMagic   = "tongxin-audit-v1"
	keySize    = 32
	keyMaxSize = 1024
)

// LoadKey reads dir/audit.key. A missing file is an error matching
// fs.ErrNotExist.
func LoadKey(dir string) (db.AuditKey, error) {
	path := filepath.Join(dir, KeyFileName)
	f, err := os.Open(path)
	if err != nil {
		return db.AuditKey{}, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, keyMaxSize+1))
	if err != nil {
		return db.AuditKey{}, fmt.Errorf("read %s: %w", path, err)
	}
	k, err := parseKey(data)
	if err != nil {
		return db.AuditKey{}, errs.Newf(errs.Invalid, "audit_key_bad", "审计密钥文件 %s 格式不正确（%v）", path, err)
	}
	return k, nil
}

func parseKey(data []byte) (db.AuditKey, error) {
	if len(data) > keyMaxSize {
		return db.AuditKey{}, errors.New("too large")
	}
	line, ok := strings.CutSuffix(string(data), "\n")
	if !ok {
		return db.AuditKey{}, errors.New("missing final newline")
	}
	fields := strings.Split(strings.TrimSuffix(line, "\r"), " ")
	if len(fields) != 3 || fields[0] != keyMagic {
		return db.AuditKey{}, errors.New("want \"" + keyMagic + " KEY FROM\"")
	}
	secret, err := base64.StdEncoding.Strict().DecodeString(fields[1])
	if err != nil || len(secret) != keySize {
		return db.AuditKey{}, fmt.Errorf("the key must be %d bytes in base64", keySize)
	}
	from, err := strconv.ParseInt(fields[2], 10, 64)
	if err != nil || from < 1 {
		return db.AuditKey{}, errors.New("bad first keyed row")
	}
	return db.AuditKey{Secret: secret, From: from}, nil
}

func formatKey(k db.AuditKey) []byte {
	return []byte(keyMagic + " " + base64.StdEncoding.EncodeToString(k.Secret) + " " + strconv.FormatInt(k.From, 10) + "\n")
}

// LoadOrCreateKey loads dir/audit.key, or creates it (mode 0600) when the
// database's chain is not keyed yet: the new key signs the rows after the
// current head. It refuses a key that did not sign the chain's head row,
// and a missing file when the head row is keyed (copy audit.key from the
// instance that created it, as pii.key).
func LoadOrCreateKey(ctx context.Context, d *db.DB, dir string) (db.AuditKey, error) {
	var head Row
	err := d.Read(ctx, func(tx *db.Tx) error {
		var seq int64
		if err := tx.QueryRowContext(ctx, `SELECT seq FROM audit_head WHERE id = 1`).Scan(&seq); err != nil {
			return err
		}
		if seq == 0 {
			return nil
		}
		r, err := scanRow(tx.QueryRowContext(ctx, `SELECT seq, at, COALESCE(actor_id, 0), actor, action, object_type, object_id, area_code, summary, prev_hash, hash
			FROM audit_log WHERE seq = $1`, seq))
		head = r
		return err
	})
	if err != nil {
		return db.AuditKey{}, errs.Wrap("audit.LoadOrCreateKey", err)
	}
	k, err := LoadKey(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if head.Seq > 0 && head.Hash != head.plainHash() {
			return db.AuditKey{}, errs.Newf(errs.Conflict, "audit_key_missing",
				"审计链第 %d 行（链头）已由审计密钥签名，但数据目录 %s 中没有 %s：请从其它实例或备份复制该文件（若该行被改动，请运行 tongxin audit verify）",
				head.Seq, dir, KeyFileName)
		}
		secret := make([]byte, keySize)
		if _, err := rand.Read(secret); err != nil {
			return db.AuditKey{}, err
		}
		if err := createFile(dir, filepath.Join(dir, KeyFileName), formatKey(db.AuditKey{Secret: secret, From: head.Seq + 1})); err != nil && !errors.Is(err, fs.ErrExist) {
			return db.AuditKey{}, fmt.Errorf("audit: create the key file: %w", err)
		}
		// Another process may have created the file first: use its key.
		k, err = LoadKey(dir)
	}
	if err != nil {
		return db.AuditKey{}, err
	}
	if head.Seq >= k.From && head.Hash != head.keyedHash(k.Secret) {
		return db.AuditKey{}, errs.Newf(errs.Conflict, "audit_key_mismatch",
			"审计密钥不符：审计链第 %d 行（链头）不是由数据目录中的 %s 签名；请使用签名该链的 %s（从其它实例或备份复制），若该行被改动，请运行 tongxin audit verify",
			head.Seq, KeyFileName, KeyFileName)
	}
	return k, nil
}

// createFile writes data to path without ever replacing an existing file:
// a private temporary file is linked into place, so no reader sees half a
// key. It returns an error matching fs.ErrExist if path exists.
func createFile(dir, path string, data []byte) error {
	return pii.CreateSecretFile(dir, path, data)
}
