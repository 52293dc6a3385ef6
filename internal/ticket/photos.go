package ticket

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/web"
)

// SniffImage returns the media type of a photo judged from its bytes:
// JPEG, PNG, WebP or GIF; ok is false for anything else.
func SniffImage(b []byte) (mediaType string, ok bool) {
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return "image/jpeg", true
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png", true
	case len(b) >= 12 && bytes.Equal(b[:4], []byte("RIFF")) && bytes.Equal(b[8:12], []byte("WEBP")):
		return "image/webp", true
	case bytes.HasPrefix(b, []byte("GIF87a")) || bytes.HasPrefix(b, []byte("GIF89a")):
		return "image/gif", true
	}
	return "", false
}

// photoDir is where photos are kept, each named by its SHA-256.
func (s *Service) photoDir() string { return filepath.Join(s.dataDir, "uploads", "tickets") }

// AddPhoto attaches an image (≤ 5 MB, sniffed) to a ticket the caller may
// read and that is not closed.
func (s *Service) AddPhoto(ctx context.Context, p *auth.Principal, ref string, b []byte) (*Photo, error) {
	const op = "ticket.AddPhoto"
	if len(b) == 0 {
		return nil, errs.Fields("invalid_photo", "请选择照片", errs.FieldError{Field: "file", Message: "文件为空"})
	}
	if len(b) > MaxPhotoBytes {
		return nil, &errs.Error{Kind: errs.TooLarge, Code: "photo_too_large", Message: "照片不能超过 5 MB"}
	}
	mt, ok := SniffImage(b)
	if !ok {
		return nil, &errs.Error{Kind: errs.Unsupported, Code: "not_an_image", Message: "只接受 JPEG、PNG、WebP 或 GIF 图片"}
	}
	sum := sha256.Sum256(b)
	hexSum := hex.EncodeToString(sum[:])
	var out Photo
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		t, err := s.readable(ctx, tx, p, ref, op)
		if err != nil {
			return err
		}
		if t.Status.Closed() {
			return errs.Newf(errs.Conflict, "ticket_closed", "工单已「%s」，不能再添加照片", StatusNames[t.Status])
		}
		n, err := countPhotos(ctx, tx, t.ID)
		if err != nil {
			return err
		}
		if n >= MaxPhotos {
			return errs.Newf(errs.Conflict, "too_many_photos", "每张工单最多 %d 张照片", MaxPhotos)
		}
		if err := web.StoreUpload(s.photoDir(), hexSum, b); err != nil {
			return fmt.Errorf("ticket: store photo: %w", err)
		}
		out = Photo{MediaType: mt, Size: len(b), UploadedBy: p.Actor(), CreatedAt: tx.Now, sha: hexSum}
		if out.ID, err = insertPhoto(ctx, tx, t.ID, &out); err != nil {
			return err
		}
		out.URL = photoURL(t.ID, out.ID)
		if err := addEvent(ctx, tx, t.ID, p.Actor(), "photo", "", "", "", ""); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "ticket.photo",
			ObjectType: "ticket", ObjectID: t.Tracking, AreaCode: t.AreaCode,
			Summary: fmt.Sprintf("工单 %s 添加照片（%s，%d 字节）", t.Tracking, mt, len(b))})
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return &out, nil
}

// PhotoFile opens a photo of a ticket the caller may read.
func (s *Service) PhotoFile(ctx context.Context, p *auth.Principal, ref string, photoID int64) (*Photo, io.ReadCloser, error) {
	const op = "ticket.PhotoFile"
	var ph *Photo
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		t, err := s.readable(ctx, tx, p, ref, op)
		if err != nil {
			return err
		}
		list, err := loadPhotos(ctx, tx, t.ID)
		if err != nil {
			return err
		}
		for i := range list {
			if list[i].ID == photoID {
				ph = &list[i]
			}
		}
		if ph == nil {
			return errs.E(errs.NotFound, "photo_not_found", "照片不存在")
		}
		return nil
	})
	if err != nil {
		return nil, nil, errs.Wrap(op, err)
	}
	f, err := os.Open(filepath.Join(s.photoDir(), ph.sha))
	if err != nil {
		return nil, nil, errs.Wrap(op, fmt.Errorf("open photo: %w", err))
	}
	return ph, f, nil
}
