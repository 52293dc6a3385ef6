package quarantine

import (
	"context"
	"fmt"

	"tongxin/internal/db"
)

// Sites, rooms and who was in them when. Occupancy at a moment T is the
// placements with from_at <= T < to_at (or not ended).

// occupiedAt is the condition that placement pl is in its room at the
// moment of argument n.
func occupiedAt(n string) string {
	return `pl.from_at <= ` + n + ` AND (pl.to_at IS NULL OR pl.to_at > ` + n + `)`
}

// siteCols reads a site with its rooms, beds, persons and free rooms at
// the moment of argument $1. A room is a place, not a decision: rooms
// registered today count at earlier moments too, so that stays recorded
// after the fact (a site's paper records) have their rooms.
const siteCols = `s.id, s.name, s.place, s.area_code, COALESCE(a.name, s.area_code), s.area_path, s.capacity, s.status,
	s.created_at, s.created_by,
	(SELECT COUNT(*) FROM quarantine_rooms r WHERE r.site_id = s.id),
	(SELECT COALESCE(SUM(r.beds), 0) FROM quarantine_rooms r WHERE r.site_id = s.id),
	(SELECT COUNT(*) FROM quarantine_placements pl WHERE pl.site_id = s.id AND ` + `pl.from_at <= $1 AND (pl.to_at IS NULL OR pl.to_at > $1)` + `),
	(SELECT COUNT(*) FROM quarantine_rooms r WHERE r.site_id = s.id AND NOT EXISTS (SELECT 1 FROM quarantine_placements pl
		WHERE pl.room_id = r.id AND pl.from_at <= $1 AND (pl.to_at IS NULL OR pl.to_at > $1)))`

const siteFrom = ` FROM quarantine_sites s LEFT JOIN areas a ON a.code = s.area_code`

func scanSite(sc db.Scanner) (*Site, error) {
	var s Site
	var created int64
	err := sc.Scan(&s.ID, &s.Name, &s.Place, &s.AreaCode, &s.AreaName, &s.areaPath, &s.Capacity, &s.Status, &created,
		&s.CreatedBy, &s.Rooms, &s.Beds, &s.Occupied, &s.FreeRooms)
	s.CreatedAt = fromMS(created)
	return &s, err
}

// listSites answers the sites matching where (its arguments from $2 on;
// $1 is the moment), by area and name.
func listSites(ctx context.Context, tx *db.Tx, at int64, where string, a db.Args) ([]*Site, error) {
	args := append([]any{at}, a.List...)
	out, err := db.Collect(ctx, tx, scanSite, `SELECT `+siteCols+siteFrom+` WHERE `+where+
		` ORDER BY s.area_path, s.name, s.id LIMIT `+fmt.Sprint(MaxListed), args...)
	if err != nil {
		return nil, fmt.Errorf("quarantine: sites: %w", err)
	}
	return out, nil
}

// loadSite answers a site with its occupancy at at.
func loadSite(ctx context.Context, tx *db.Tx, id, at int64) (*Site, error) {
	s, err := scanSite(tx.QueryRowContext(ctx, `SELECT `+siteCols+siteFrom+` WHERE s.id = $2`, at, id))
	if err != nil {
		return nil, db.NotFound("quarantine.site", err, "site_not_found", "隔离场所不存在")
	}
	return s, nil
}

// insertSite creates a site, open.
func insertSite(ctx context.Context, tx *db.Tx, in SiteInput, areaPath, by string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO quarantine_sites (name, place, area_code, area_path, capacity, status,
		created_at, created_by, updated_at) VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $6) RETURNING id`,
		in.Name, in.Place, in.AreaCode, areaPath, in.Capacity, tx.NowMS(), by).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("quarantine: insert site: %w", err)
	}
	return id, nil
}

// updateSite changes a site's name, place, capacity and status.
func updateSite(ctx context.Context, tx *db.Tx, id int64, name, place string, capacity int, status SiteStatus) error {
	_, err := tx.ExecContext(ctx, `UPDATE quarantine_sites SET name = $1, place = $2, capacity = $3, status = $4, updated_at = $5
		WHERE id = $6`, name, place, capacity, status, tx.NowMS(), id)
	if err != nil {
		return fmt.Errorf("quarantine: update site: %w", err)
	}
	return nil
}

// roomRow is a room as stored.
type roomRow struct {
	id, siteID   int64
	number       string
	floor, beds  int
	siteName     string
	siteAreaPath string
	siteArea     string
	siteStatus   SiteStatus
	siteCapacity int
}

// loadRoom answers a site's room by number.
func loadRoom(ctx context.Context, tx *db.Tx, siteID int64, number string) (*roomRow, error) {
	var r roomRow
	err := tx.QueryRowContext(ctx, `SELECT r.id, r.site_id, r.number, r.floor, r.beds, s.name, s.area_path, s.area_code, s.status,
		s.capacity FROM quarantine_rooms r JOIN quarantine_sites s ON s.id = r.site_id WHERE r.site_id = $1 AND r.number = $2`,
		siteID, number).Scan(&r.id, &r.siteID, &r.number, &r.floor, &r.beds, &r.siteName, &r.siteAreaPath, &r.siteArea,
		&r.siteStatus, &r.siteCapacity)
	if err != nil {
		return nil, db.NotFound("quarantine.room", err, "room_not_found", "房间 "+number+" 不存在")
	}
	return &r, nil
}

// roomNumbers answers the numbers of a site's rooms.
func roomNumbers(ctx context.Context, tx *db.Tx, siteID int64) (map[string]bool, error) {
	list, err := db.Collect(ctx, tx, db.Value[string], `SELECT number FROM quarantine_rooms WHERE site_id = $1`, siteID)
	if err != nil {
		return nil, fmt.Errorf("quarantine: rooms: %w", err)
	}
	out := make(map[string]bool, len(list))
	for _, n := range list {
		out[n] = true
	}
	return out, nil
}

// insertRoom adds a room to a site.
func insertRoom(ctx context.Context, tx *db.Tx, siteID int64, in RoomInput) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO quarantine_rooms (site_id, number, floor, beds, created_at) VALUES ($1, $2, $3, $4, $5)`,
		siteID, in.Number, in.Floor, in.Beds, tx.NowMS())
	if err != nil {
		return fmt.Errorf("quarantine: insert room: %w", err)
	}
	return nil
}

// siteRooms answers a site's rooms in order of floor and number, without
// occupants.
func siteRooms(ctx context.Context, tx *db.Tx, siteID int64) ([]Room, error) {
	out, err := db.Collect(ctx, tx, func(sc db.Scanner) (Room, error) {
		r := Room{Occupants: []Occupant{}}
		err := sc.Scan(&r.ID, &r.Number, &r.Floor, &r.Beds)
		return r, err
	}, `SELECT id, number, floor, beds FROM quarantine_rooms WHERE site_id = $1 ORDER BY floor, LENGTH(number), number`, siteID)
	if err != nil {
		return nil, fmt.Errorf("quarantine: rooms: %w", err)
	}
	return out, nil
}

// occupant is a person in a room at a moment.
type occupant struct {
	roomID int64
	Occupant
}

// occupantsAt answers who was in the site's rooms at the moment at.
func occupantsAt(ctx context.Context, tx *db.Tx, siteID, at int64) ([]occupant, error) {
	out, err := db.Collect(ctx, tx, func(sc db.Scanner) (occupant, error) {
		var o occupant
		var since int64
		err := sc.Scan(&o.roomID, &o.StayID, &o.Name, &o.Category, &since)
		o.Since = fromMS(since)
		return o, err
	}, `SELECT pl.room_id, st.id, pe.name_masked, st.category, pl.from_at FROM quarantine_placements pl
		JOIN quarantine_stays st ON st.id = pl.stay_id JOIN quarantine_persons pe ON pe.id = st.person_id
		WHERE pl.site_id = $1 AND `+occupiedAt("$2")+` ORDER BY pl.from_at, pl.id`, siteID, at)
	if err != nil {
		return nil, fmt.Errorf("quarantine: occupants: %w", err)
	}
	return out, nil
}

// interval is a placement's span, for the beds check.
type interval struct{ from, to int64 } // to 0: not ended

// roomSpans answers the placements of a room that reach past from.
func scanInterval(sc db.Scanner) (interval, error) {
	var iv interval
	var to *int64
	err := sc.Scan(&iv.from, &to)
	if to != nil {
		iv.to = *to
	}
	return iv, err
}

func roomSpans(ctx context.Context, tx *db.Tx, roomID, from int64) ([]interval, error) {
	out, err := db.Collect(ctx, tx, scanInterval,
		`SELECT from_at, to_at FROM quarantine_placements WHERE room_id = $1 AND (to_at IS NULL OR to_at > $2)`, roomID, from)
	if err != nil {
		return nil, fmt.Errorf("quarantine: room spans: %w", err)
	}
	return out, nil
}

// siteSpans answers the site's placements that end after from, or not at
// all.
func siteSpans(ctx context.Context, tx *db.Tx, siteID, from int64) ([]interval, error) {
	out, err := db.Collect(ctx, tx, scanInterval,
		`SELECT from_at, to_at FROM quarantine_placements WHERE site_id = $1 AND (to_at IS NULL OR to_at > $2)`, siteID, from)
	if err != nil {
		return nil, fmt.Errorf("quarantine: site spans: %w", err)
	}
	return out, nil
}

// insertPlacement puts a stay in a room from the moment from.
func insertPlacement(ctx context.Context, tx *db.Tx, stayID, siteID, roomID, from int64, note, by string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO quarantine_placements (stay_id, site_id, room_id, from_at, note, created_by)
		VALUES ($1, $2, $3, $4, $5, $6)`, stayID, siteID, roomID, from, note, by)
	if err != nil {
		return fmt.Errorf("quarantine: insert placement: %w", err)
	}
	return nil
}

// openPlacement answers the room a stay is in (id, room, from), ok false
// when none.
func openPlacement(ctx context.Context, tx *db.Tx, stayID int64) (id, roomID, from int64, err error) {
	err = tx.QueryRowContext(ctx, `SELECT id, room_id, from_at FROM quarantine_placements WHERE stay_id = $1 AND to_at IS NULL`,
		stayID).Scan(&id, &roomID, &from)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("quarantine: open placement: %w", err)
	}
	return id, roomID, from, nil
}

// endPlacement ends a placement at to.
func endPlacement(ctx context.Context, tx *db.Tx, id, to int64, kind string) error {
	_, err := tx.ExecContext(ctx, `UPDATE quarantine_placements SET to_at = $1, end_kind = $2 WHERE id = $3`, to, kind, id)
	if err != nil {
		return fmt.Errorf("quarantine: end placement: %w", err)
	}
	return nil
}

// placementRow is a placement with its room and site, for a site's
// events and a stay's history.
type placementRow struct {
	stayID     int64
	name       string
	siteID     int64
	site, room string
	from       int64
	to         *int64
	endKind    *string
	by         string
}

const placementCols = `pl.stay_id, pe.name_masked, pl.site_id, s.name, r.number, pl.from_at, pl.to_at, pl.end_kind, pl.created_by`

const placementFrom = ` FROM quarantine_placements pl JOIN quarantine_rooms r ON r.id = pl.room_id
	JOIN quarantine_sites s ON s.id = pl.site_id JOIN quarantine_stays st ON st.id = pl.stay_id
	JOIN quarantine_persons pe ON pe.id = st.person_id`

func scanPlacement(sc db.Scanner) (*placementRow, error) {
	var p placementRow
	err := sc.Scan(&p.stayID, &p.name, &p.siteID, &p.site, &p.room, &p.from, &p.to, &p.endKind, &p.by)
	return &p, err
}

// stayPlacements answers a stay's placements in order.
func stayPlacements(ctx context.Context, tx *db.Tx, stayID int64) ([]*placementRow, error) {
	out, err := db.Collect(ctx, tx, scanPlacement, `SELECT `+placementCols+placementFrom+` WHERE pl.stay_id = $1
		ORDER BY pl.from_at, pl.id`, stayID)
	if err != nil {
		return nil, fmt.Errorf("quarantine: stay placements: %w", err)
	}
	return out, nil
}

// sitePlacements answers the placements of a site begun or ended by at,
// and the placements of the same stays that follow them (where a
// transfer went), newest first, at most limit.
func sitePlacements(ctx context.Context, tx *db.Tx, siteID, at int64, limit int) ([]*placementRow, error) {
	out, err := db.Collect(ctx, tx, scanPlacement, `SELECT `+placementCols+placementFrom+`
		WHERE pl.stay_id IN (SELECT x.stay_id FROM quarantine_placements x WHERE x.site_id = $1 AND x.from_at <= $2)
		AND pl.from_at <= $2 ORDER BY pl.from_at DESC, pl.id DESC LIMIT $3`, siteID, at, limit)
	if err != nil {
		return nil, fmt.Errorf("quarantine: site placements: %w", err)
	}
	return out, nil
}
