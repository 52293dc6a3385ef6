package masstest

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"tongxin/internal/area"
	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/importer"
	"tongxin/internal/pii"
)

// sealedRow is a checked row with its personal data sealed.
type sealedRow struct {
	regRow
	rec residentRec
}

// ImportHouseholds reads a CSV or XLSX file of residents (HouseholdSpec)
// and syncs each community it names to the file, in one transaction: new
// households and residents are registered, residents found elsewhere in
// the city move here, changed details are written, and the community's
// residents missing from the file move out. Any bad row refuses the whole
// file (errs.Rows, import_rejected). The coverage of the open rounds over
// the communities touched is rebuilt in the same transaction.
func (s *Service) ImportHouseholds(ctx context.Context, p *auth.Principal, data []byte) (*RegisterImport, error) {
	const op = "masstest.ImportHouseholds"
	if err := auth.Require(p, auth.TestingRegister, op); err != nil {
		return nil, err
	}
	tbl, err := importer.Parse(data, HouseholdSpec)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	if len(tbl.Rows) == 0 {
		return nil, errs.Wrap(op, errs.E(errs.Invalid, "import_no_rows", "文件中没有数据行，未导入任何数据"))
	}
	ck := &regChecker{s: s, p: p, now: s.clock.Now(), comms: map[string]*commCheck{}, firstr: map[string]int{}}
	rows := make([]sealedRow, 0, len(tbl.Rows))
	for _, row := range tbl.Rows {
		r, err := ck.row(ctx, row)
		if err != nil {
			return nil, errs.Wrap(op, err)
		}
		rows = append(rows, sealedRow{regRow: r})
	}
	if err := ck.errs.Err(); err != nil {
		return nil, errs.Wrap(op, err)
	}
	for i := range rows {
		if err := s.seal(&rows[i]); err != nil {
			return nil, errs.Wrap(op, err)
		}
	}
	out := &RegisterImport{Rows: len(rows), IgnoredColumns: append([]string{}, tbl.Ignored...)}
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		// The samples' cache of residents goes before the import's writes
		// and after them, whatever their outcome (cache_residents.go).
		s.residents.forget()
		defer s.residents.forget()
		// The coverage it rebuilds is what the samples make of it.
		if err := lockSamples(ctx, tx); err != nil {
			return err
		}
		if err := bumpRegisterVersion(ctx, tx); err != nil {
			return err
		}
		out.Communities = nil
		im := &regImport{s: s, p: p, tx: tx, comms: ck.comms, touched: map[int64]bool{}, rebuild: map[string]bool{},
			today: tx.Now.In(clock.Shanghai).Format("2006-01-02")}
		return im.run(ctx, rows, out)
	})
	if s.db.Dialect.IsUniqueViolation(err) {
		// Another import registered the same room or person meanwhile.
		err = errs.E(errs.Conflict, "register_busy", "另一份登记表正在导入同一社区，请稍后重新导入")
	}
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, errs.Wrap(op, s.nameOrigins(ctx, out))
}

// nameOrigins puts the name of the community a resident moved in from
// before the address they left.
func (s *Service) nameOrigins(ctx context.Context, out *RegisterImport) error {
	var codes []string
	for _, c := range out.Communities {
		for _, m := range c.MovedIn {
			if m.fromCommunity != "" {
				codes = append(codes, m.fromCommunity)
			}
		}
	}
	if len(codes) == 0 {
		return nil
	}
	names, err := s.areas.Names(ctx, codes)
	if err != nil {
		return err
	}
	for _, c := range out.Communities {
		for i, m := range c.MovedIn {
			if m.fromCommunity != "" {
				c.MovedIn[i].From = names[m.fromCommunity] + " " + m.From
			}
		}
	}
	return nil
}

// seal fills the record of a row: sealed name, ID number and phone, blind
// indexes.
func (s *Service) seal(r *sealedRow) error {
	var err error
	rec := &r.rec
	rec.nameMasked, rec.idIdx, rec.id4 = pii.MaskName(r.name), s.box.Index(pii.KindResidentID, r.id), pii.Last4(r.id)
	rec.birthYear, rec.flags, rec.status, rec.statusDate = r.birthYear, r.flags, r.status, r.statusDate
	if rec.nameEnc, err = s.box.Seal(r.name); err != nil {
		return err
	}
	if rec.idEnc, err = s.box.Seal(r.id); err != nil {
		return err
	}
	if r.phone != "" {
		if rec.phoneEnc, err = s.box.Seal(r.phone); err != nil {
			return err
		}
		rec.phoneIdx = sql.NullString{String: s.box.Index("phone", r.phone), Valid: true}
	}
	return nil
}

// regImport is one import's transaction.
type regImport struct {
	s       *Service
	p       *auth.Principal
	tx      *db.Tx
	comms   map[string]*commCheck
	stored  map[string]*storedRes // by ID blind index
	touched map[int64]bool        // households whose members to recount
	rebuild map[string]bool       // community paths whose coverage to rebuild
	today   string
}

// run syncs every community of rows, then recounts, rebuilds and audits.
func (im *regImport) run(ctx context.Context, rows []sealedRow, out *RegisterImport) error {
	idxs := make([]string, len(rows))
	for i := range rows {
		idxs[i] = rows[i].rec.idIdx
	}
	var err error
	if im.stored, err = residentsByIdx(ctx, im.tx, idxs); err != nil {
		return err
	}
	if err := im.checkMoves(rows); err != nil {
		return err
	}
	var order []string
	byComm := map[string][]sealedRow{}
	for _, r := range rows {
		if byComm[r.community] == nil {
			order = append(order, r.community)
		}
		byComm[r.community] = append(byComm[r.community], r)
	}
	for _, code := range order {
		res, err := im.sync(ctx, im.comms[code].ref, byComm[code])
		if err != nil {
			return err
		}
		out.Communities = append(out.Communities, *res)
	}
	return im.finish(ctx, out)
}

// checkMoves refuses a row whose person is registered in a community the
// caller does not register.
func (im *regImport) checkMoves(rows []sealedRow) error {
	var list importer.Errors
	for _, r := range rows {
		st := im.stored[r.rec.idIdx]
		if st == nil || st.hh.place.community == r.community || im.p.Covers(auth.TestingRegister, st.hh.areaPath) {
			continue
		}
		list.Add(r.num, HouseholdSpec.HeaderOf("id_number"), "此人已登记在其他社区（"+st.hh.place.community+
			"），不在您的登记范围内，请联系该社区办理迁出")
	}
	return list.Err()
}

// sync makes the register of community c what rows say.
func (im *regImport) sync(ctx context.Context, c AreaRef, rows []sealedRow) (*CommunitySync, error) {
	res := &CommunitySync{Code: c.Code, Name: c.Name, Residents: len(rows), MovedIn: []ResidentChange{},
		MovedOut: []ResidentChange{}, Changed: []ResidentChange{}}
	hhs, err := householdsOf(ctx, im.tx, c.Code)
	if err != nil {
		return nil, err
	}
	before, err := registeredIn(ctx, im.tx, c.Code)
	if err != nil {
		return nil, err
	}
	res.First = len(before) == 0
	im.rebuild[c.Path] = true
	seen := map[int64]bool{}
	inFile := map[placeKey]bool{}
	for i := range rows {
		r := &rows[i]
		hh := hhs[r.place()]
		if hh == nil {
			if hh, err = insertHousehold(ctx, im.tx, r.place(), c.Path); err != nil {
				return nil, err
			}
			hhs[r.place()] = hh
			res.NewHouseholds++
		}
		inFile[r.place()] = true
		id, err := im.apply(ctx, r, hh, res)
		if err != nil {
			return nil, err
		}
		seen[id] = true
	}
	res.Households = len(inFile)
	for _, st := range before {
		if seen[st.id] {
			continue
		}
		if err := im.leave(ctx, st, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// apply writes one row into household hh, answering the resident's id.
func (im *regImport) apply(ctx context.Context, r *sealedRow, hh *storedHH, res *CommunitySync) (int64, error) {
	im.touched[hh.id] = true
	rec := r.rec
	rec.householdID = hh.id
	change := ResidentChange{Name: rec.nameMasked, IDNumber: pii.MaskID(r.id), Address: hh.address()}
	st := im.stored[rec.idIdx]
	if st == nil {
		id, err := insertResident(ctx, im.tx, &rec)
		change.ID = id
		res.MovedInCount++
		if !res.First {
			addChange(&res.MovedIn, change)
		}
		return id, err
	}
	change.ID = st.id
	im.touched[st.householdID] = true
	if rec.statusDate == "" && st.status == rec.status {
		rec.statusDate = st.statusDate
	} else if rec.statusDate == "" && rec.status != Present {
		rec.statusDate = im.today
	}
	switch {
	case st.hh.place.community != r.community || st.status == MovedOut:
		im.rebuild[st.hh.areaPath] = true
		change.From = st.hh.address()
		if st.hh.place.community != r.community {
			change.fromCommunity = st.hh.place.community
		}
		res.MovedInCount++
		addChange(&res.MovedIn, change)
	default:
		fields, err := im.s.changedFields(st, r, &rec)
		if err != nil {
			return 0, err
		}
		if len(fields) == 0 {
			res.Unchanged++
			return st.id, nil
		}
		if slices.Contains(fields, "room") {
			change.From = st.hh.address()
		}
		change.Changed = fields
		res.ChangedCount++
		addChange(&res.Changed, change)
	}
	return st.id, updateResident(ctx, im.tx, st.id, &rec)
}

// changedFields lists what rec changes of st.
func (s *Service) changedFields(st *storedRes, r *sealedRow, rec *residentRec) ([]string, error) {
	var out []string
	name, err := s.box.Open(st.nameEnc)
	if err != nil {
		return nil, err
	}
	if name != r.name {
		out = append(out, "name")
	}
	if st.phoneIdx != rec.phoneIdx {
		out = append(out, "phone")
	}
	if st.flags != rec.flags {
		out = append(out, "flags")
	}
	if st.status != rec.status || st.statusDate != rec.statusDate {
		out = append(out, "status")
	}
	if st.birthYear != rec.birthYear {
		out = append(out, "birth_year")
	}
	if st.householdID != rec.householdID {
		out = append(out, "room")
	}
	return out, nil
}

// leave moves out a resident of the community the file no longer has.
func (im *regImport) leave(ctx context.Context, st *storedRes, res *CommunitySync) error {
	im.touched[st.householdID] = true
	id, err := im.s.box.Open(st.idEnc)
	if err != nil {
		return err
	}
	res.MovedOutCount++
	addChange(&res.MovedOut, ResidentChange{ID: st.id, Name: st.nameMasked, IDNumber: pii.MaskID(id), Address: st.hh.address()})
	return moveOut(ctx, im.tx, st.id, im.today)
}

func addChange(list *[]ResidentChange, c ResidentChange) {
	if len(*list) < MaxListedChanges {
		*list = append(*list, c)
	}
}

// finish recounts the households touched, rebuilds the coverage of the
// communities touched and audits the import, counts only.
func (im *regImport) finish(ctx context.Context, out *RegisterImport) error {
	ids := make([]int64, 0, len(im.touched))
	for id := range im.touched {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if err := recountMembers(ctx, im.tx, ids); err != nil {
		return err
	}
	paths := make([]string, 0, len(im.rebuild))
	for p := range im.rebuild {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		if err := rebuildCoverage(ctx, im.tx, p); err != nil {
			return err
		}
	}
	var parts []string
	var synced []string
	for _, c := range out.Communities {
		parts = append(parts, fmt.Sprintf("%s：%d 户 %d 人，迁入 %d，迁出 %d，变更 %d", c.Name, c.Households, c.Residents,
			c.MovedInCount, c.MovedOutCount, c.ChangedCount))
		synced = append(synced, im.comms[c.Code].ref.Path)
	}
	return audit.Record(ctx, im.tx, audit.Entry{ActorID: im.p.UserID, Actor: im.p.Actor(), Action: "testing.register.import",
		ObjectType: "testing_register", AreaCode: area.CommonRoot(synced),
		Summary: fmt.Sprintf("导入户籍登记 %d 行（%s）", out.Rows, strings.Join(parts, "；"))})
}
