package ds

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/store"
)

// SQLStore is the Store on a store.DB (SQLite or PostgreSQL; one query set for both).
//
// Every registry change runs in one transaction that first bumps the scheme's serial. On
// PostgreSQL that UPDATE locks the scheme row, so registry changes run one at a time and the
// overlap check of one cannot miss the range another is adding; SQLite has one writer anyway.
type SQLStore struct {
	db *store.DB
	// RegistryRecheck, when positive, serves the registry's reads on the AReq path (Scheme,
	// FindRange, ACS, ThreeDSServer) from memory, reading the serial at most this often to notice
	// another instance's changes (registry_cache.go). Zero reads the database every time.
	RegistryRecheck time.Duration
	cache           registryCache
}

// NewSQLStore wraps an open store whose schema includes migrations 0003 and 0010.
func NewSQLStore(db *store.DB) *SQLStore { return &SQLStore{db: db} }

var _ Store = (*SQLStore)(nil)

func (s *SQLStore) q(query string) string { return s.db.Rebind(query) }

// bump advances the serial inside tx and returns the new value.
func (s *SQLStore) bump(ctx context.Context, tx *sql.Tx) (int64, error) {
	var serial int64
	err := tx.QueryRowContext(ctx, `UPDATE ds_scheme SET serial = serial + 1 WHERE id = 1 RETURNING serial`).Scan(&serial)
	return serial, err
}

// change runs fn in a transaction after bumping the serial, and drops this instance's copy of the
// registry once it is over (committed or not).
func (s *SQLStore) change(ctx context.Context, fn func(tx *sql.Tx, serial int64) error) error {
	defer s.cache.drop()
	return s.db.WithTx(ctx, func(tx *sql.Tx) error {
		serial, err := s.bump(ctx, tx)
		if err != nil {
			return err
		}
		return fn(tx, serial)
	})
}

// mustAffect turns an UPDATE or DELETE that touched no row into ErrNotFound.
func mustAffect(res sql.Result, err error, what string) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%w: %s", store.ErrNotFound, what)
	}
	return nil
}

// Scheme implements Store.
func (s *SQLStore) Scheme(ctx context.Context) (Scheme, error) {
	v, err := s.registry(ctx)
	if err != nil {
		return Scheme{}, err
	}
	if v != nil {
		return v.scheme, nil
	}
	return s.readScheme(ctx)
}

func (s *SQLStore) readScheme(ctx context.Context) (Scheme, error) {
	var sc Scheme
	err := s.db.Reader().QueryRowContext(ctx, `SELECT ds_id, reference_number, eci_y, eci_a, eci_n,
		standin_not_enrolled, standin_unavailable, unknown_sdk, device_info, serial FROM ds_scheme WHERE id = 1`).Scan(
		&sc.DSID, &sc.ReferenceNumber, &sc.ECI.Y, &sc.ECI.A, &sc.ECI.N, &sc.NotEnrolled, &sc.Unavailable, &sc.UnknownSDK,
		&sc.DeviceInfo, &sc.Serial)
	return sc, store.MapError(err)
}

// SetScheme implements Store.
func (s *SQLStore) SetScheme(ctx context.Context, sc Scheme) (Scheme, error) {
	sc = sc.withDefaults()
	if err := sc.Validate(); err != nil {
		return Scheme{}, err
	}
	err := s.change(ctx, func(tx *sql.Tx, _ int64) error {
		_, err := tx.ExecContext(ctx, s.q(`UPDATE ds_scheme SET ds_id = ?, reference_number = ?, eci_y = ?, eci_a = ?,
			eci_n = ?, standin_not_enrolled = ?, standin_unavailable = ?, unknown_sdk = ?, device_info = ? WHERE id = 1`),
			sc.DSID, sc.ReferenceNumber, sc.ECI.Y, sc.ECI.A, sc.ECI.N, string(sc.NotEnrolled), string(sc.Unavailable),
			string(sc.UnknownSDK), string(sc.DeviceInfo))
		return err
	})
	if err != nil {
		return Scheme{}, err
	}
	return s.Scheme(ctx)
}

// SetStandIn implements Store. The serial's bump locks the scheme row first (PostgreSQL), so the
// policies read as "before" are the ones this change replaces, and a concurrent PUT of the scheme's
// other settings is neither lost nor undone.
func (s *SQLStore) SetStandIn(ctx context.Context, notEnrolled, unavailable Policy) (before, after Scheme, err error) {
	for field, p := range map[string]Policy{"standInNotEnrolled": notEnrolled, "standInUnavailable": unavailable} {
		if !p.Valid() {
			return Scheme{}, Scheme{}, httpx.Invalid(httpx.FieldError{Field: field, Detail: "must be attempts, unavailable or not-enrolled"})
		}
	}
	err = s.change(ctx, func(tx *sql.Tx, _ int64) error {
		if err := tx.QueryRowContext(ctx, `SELECT standin_not_enrolled, standin_unavailable FROM ds_scheme WHERE id = 1`).
			Scan(&before.NotEnrolled, &before.Unavailable); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(`UPDATE ds_scheme SET standin_not_enrolled = ?, standin_unavailable = ? WHERE id = 1`),
			string(notEnrolled), string(unavailable))
		return err
	})
	if err != nil {
		return Scheme{}, Scheme{}, err
	}
	after, err = s.Scheme(ctx)
	return before, after, err
}

// AddACS implements Store.
func (s *SQLStore) AddACS(ctx context.Context, a ACS) error {
	if err := a.Validate(); err != nil {
		return err
	}
	return s.change(ctx, func(tx *sql.Tx, _ int64) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO ds_acs (name, reference_number, operator_id, url) VALUES (?, ?, ?, ?)`),
			a.Name, a.ReferenceNumber, a.OperatorID, a.URL)
		return err
	})
}

// ChangeACS implements Store.
func (s *SQLStore) ChangeACS(ctx context.Context, a ACS) error {
	if err := a.Validate(); err != nil {
		return err
	}
	return s.change(ctx, func(tx *sql.Tx, _ int64) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE ds_acs SET reference_number = ?, operator_id = ?, url = ? WHERE name = ?`),
			a.ReferenceNumber, a.OperatorID, a.URL, a.Name)
		return mustAffect(res, err, "acs")
	})
}

// RemoveACS implements Store. An ACS that still serves ranges stays: its ranges go first.
func (s *SQLStore) RemoveACS(ctx context.Context, name string) error {
	return s.change(ctx, func(tx *sql.Tx, _ int64) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT count(*) FROM ds_ranges WHERE acs_name = ?`), name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return httpx.NewProblem(http.StatusConflict, fmt.Sprintf("ACS %s still serves %d card range(s); remove them first", name, n),
				httpx.FieldError{Field: "name", Detail: "has card ranges"})
		}
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM ds_acs WHERE name = ?`), name)
		return mustAffect(res, err, "acs")
	})
}

// ACS implements Store.
func (s *SQLStore) ACS(ctx context.Context, name string) (ACS, error) {
	v, err := s.registry(ctx)
	if err != nil {
		return ACS{}, err
	}
	if v != nil {
		a, ok := v.acs[name]
		if !ok {
			return ACS{}, fmt.Errorf("%w: acs", store.ErrNotFound)
		}
		return a, nil
	}
	var a ACS
	err = s.db.Reader().QueryRowContext(ctx, s.q(`SELECT name, reference_number, operator_id, url FROM ds_acs WHERE name = ?`), name).
		Scan(&a.Name, &a.ReferenceNumber, &a.OperatorID, &a.URL)
	return a, store.MapError(err)
}

// ListACS implements Store.
func (s *SQLStore) ListACS(ctx context.Context) ([]ACS, error) {
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT name, reference_number, operator_id, url FROM ds_acs ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []ACS{}
	for rows.Next() {
		var a ACS
		if err := rows.Scan(&a.Name, &a.ReferenceNumber, &a.OperatorID, &a.URL); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// AddThreeDSServer implements Store.
func (s *SQLStore) AddThreeDSServer(ctx context.Context, srv ThreeDSServer) error {
	if err := srv.Validate(); err != nil {
		return err
	}
	return s.change(ctx, func(tx *sql.Tx, _ int64) error {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO ds_3ds_servers (name, reference_number, operator_id) VALUES (?, ?, ?)`),
			srv.Name, srv.ReferenceNumber, srv.OperatorID); err != nil {
			return err
		}
		return s.putRequestors(ctx, tx, srv)
	})
}

// ChangeThreeDSServer implements Store; the requestor list replaces the old one.
func (s *SQLStore) ChangeThreeDSServer(ctx context.Context, srv ThreeDSServer) error {
	if err := srv.Validate(); err != nil {
		return err
	}
	return s.change(ctx, func(tx *sql.Tx, _ int64) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE ds_3ds_servers SET reference_number = ?, operator_id = ? WHERE name = ?`),
			srv.ReferenceNumber, srv.OperatorID, srv.Name)
		if err := mustAffect(res, err, "3ds server"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM ds_requestors WHERE server_name = ?`), srv.Name); err != nil {
			return err
		}
		return s.putRequestors(ctx, tx, srv)
	})
}

// putRequestors adds srv's requestor ids, refusing one another 3DS Server holds.
func (s *SQLStore) putRequestors(ctx context.Context, tx *sql.Tx, srv ThreeDSServer) error {
	for _, id := range srv.RequestorIDs {
		var owner string
		err := tx.QueryRowContext(ctx, s.q(`SELECT server_name FROM ds_requestors WHERE requestor_id = ?`), id).Scan(&owner)
		if err == nil {
			return httpx.NewProblem(http.StatusConflict, fmt.Sprintf("requestor id %s already belongs to 3DS Server %s", id, owner),
				httpx.FieldError{Field: "requestorIds", Detail: "an id belongs to another 3DS Server"})
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO ds_requestors (requestor_id, server_name) VALUES (?, ?)`), id, srv.Name); err != nil {
			return err
		}
	}
	return nil
}

// RemoveThreeDSServer implements Store; its requestor ids go with it.
func (s *SQLStore) RemoveThreeDSServer(ctx context.Context, name string) error {
	return s.change(ctx, func(tx *sql.Tx, _ int64) error {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM ds_requestors WHERE server_name = ?`), name); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM ds_3ds_servers WHERE name = ?`), name)
		return mustAffect(res, err, "3ds server")
	})
}

// ThreeDSServer implements Store.
func (s *SQLStore) ThreeDSServer(ctx context.Context, name string) (ThreeDSServer, error) {
	v, err := s.registry(ctx)
	if err != nil {
		return ThreeDSServer{}, err
	}
	if v != nil {
		x, ok := v.servers[name]
		if !ok {
			return ThreeDSServer{}, fmt.Errorf("%w: 3ds server", store.ErrNotFound)
		}
		return x, nil
	}
	list, err := s.threeDSServers(ctx, `WHERE s.name = ?`, name)
	if err != nil {
		return ThreeDSServer{}, err
	}
	if len(list) == 0 {
		return ThreeDSServer{}, fmt.Errorf("%w: 3ds server", store.ErrNotFound)
	}
	return list[0], nil
}

// ListThreeDSServers implements Store.
func (s *SQLStore) ListThreeDSServers(ctx context.Context) ([]ThreeDSServer, error) {
	return s.threeDSServers(ctx, "")
}

func (s *SQLStore) threeDSServers(ctx context.Context, where string, args ...any) ([]ThreeDSServer, error) {
	rows, err := s.db.Reader().QueryContext(ctx, s.q(`SELECT s.name, s.reference_number, s.operator_id, r.requestor_id
		FROM ds_3ds_servers s LEFT JOIN ds_requestors r ON r.server_name = s.name `+where+` ORDER BY s.name, r.requestor_id`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []ThreeDSServer{}
	for rows.Next() {
		var srv ThreeDSServer
		var req sql.NullString
		if err := rows.Scan(&srv.Name, &srv.ReferenceNumber, &srv.OperatorID, &req); err != nil {
			return nil, err
		}
		if n := len(out); n == 0 || out[n-1].Name != srv.Name {
			srv.RequestorIDs = []string{}
			out = append(out, srv)
		}
		if req.Valid {
			last := &out[len(out)-1]
			last.RequestorIDs = append(last.RequestorIDs, req.String)
		}
	}
	return out, rows.Err()
}

func joinInd(v []string) string { return strings.Join(v, ",") }

func splitInd(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
