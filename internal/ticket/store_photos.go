package ticket

import (
	"context"
	"fmt"

	"tongxin/internal/clock"
	"tongxin/internal/db"
)

func photoURL(ticketID, photoID int64) string {
	return fmt.Sprintf("/api/v1/tickets/%d/photos/%d", ticketID, photoID)
}

// countPhotos counts the photos of ticket id.
func countPhotos(ctx context.Context, tx *db.Tx, id int64) (int, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM ticket_photos WHERE ticket_id = $1`, id).Scan(&n); err != nil {
		return 0, fmt.Errorf("ticket: photos: %w", err)
	}
	return n, nil
}

// insertPhoto records ph, stored under its SHA-256, on ticket id and
// returns the photo's id.
func insertPhoto(ctx context.Context, tx *db.Tx, id int64, ph *Photo) (int64, error) {
	var photoID int64
	err := tx.QueryRowContext(ctx, `INSERT INTO ticket_photos (ticket_id, sha256, media_type, size, uploaded_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, id, ph.sha, ph.MediaType, ph.Size, ph.UploadedBy, tx.NowMS()).Scan(&photoID)
	if err != nil {
		return 0, fmt.Errorf("ticket: photo: %w", err)
	}
	return photoID, nil
}

// loadPhotos reads the photos of ticket id, oldest first.
func loadPhotos(ctx context.Context, tx *db.Tx, id int64) ([]Photo, error) {
	out, err := db.Collect(ctx, tx, func(sc db.Scanner) (Photo, error) {
		var ph Photo
		var at int64
		err := sc.Scan(&ph.ID, &ph.sha, &ph.MediaType, &ph.Size, &ph.UploadedBy, &at)
		ph.CreatedAt, ph.URL = clock.FromMillis(at), photoURL(id, ph.ID)
		return ph, err
	}, `SELECT id, sha256, media_type, size, uploaded_by, created_at FROM ticket_photos
		WHERE ticket_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("ticket: photos: %w", err)
	}
	return out, nil
}
