package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/authvalue"
	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/threedsserver"
	"github.com/open3ds/open3ds/internal/vault"
)

// This file makes the demo's data directory on the first run: the scheme PKI, the secrets, the three
// stores with the demo scheme, issuer, merchant and cardholders. Later runs find it all and reuse it.

// demoSecrets are the demo network's keys and tokens, generated on the first run and kept in the
// data directory (mode 0600), never in the repository.
type demoSecrets struct {
	VaultKeys     string `json:"vaultKeys"`
	AuthValueKeys string `json:"authValueKeys"`
	OTPKey        string `json:"otpKey"`
	StandInKey    string `json:"standInKey"`
	DSAdmin       string `json:"dsAdminToken"`
	ACSAdmin      string `json:"acsAdminToken"`
	TDSSAdmin     string `json:"threeDSServerAdminToken"`
	MerchantKey   string `json:"merchantApiKey"`
}

func newDemoSecrets() (demoSecrets, error) {
	var s demoSecrets
	var err error
	if s.VaultKeys, err = vault.NewRandomSpec(); err != nil {
		return s, err
	}
	if s.AuthValueKeys, err = authvalue.NewRandomSpec(); err != nil {
		return s, err
	}
	for _, p := range []*string{&s.OTPKey, &s.StandInKey, &s.DSAdmin, &s.ACSAdmin, &s.TDSSAdmin} {
		b := make([]byte, 32)
		rand.Read(b)
		*p = base64.RawURLEncoding.EncodeToString(b)
	}
	return s, nil
}

// demoState is what the first run recorded: the secrets and the addresses the stores were seeded
// with, which later runs must keep, since the DS's registry and the merchant hold them.
type demoState struct {
	Secrets demoSecrets `json:"secrets"`
	Seeded  demoURLs    `json:"seeded"`
	// Schemas are the PostgreSQL schemas the roles were seeded in (ds, acs, 3dss), none on SQLite:
	// a later run must store where the first one did. The DSN itself is not kept, as it may hold a
	// password.
	Schemas []string `json:"postgresSchemas,omitempty"`
}

// demoPaths are the files of the data directory.
type demoPaths struct {
	dir, state, info, risk, merchantKey string
	pki                                 pki.Layout
	ds, acs, tdss                       string   // DSNs
	schemas                             []string // on PostgreSQL: the roles' schemas, as ds, acs, tdss
	postgres                            string   // on PostgreSQL: the DSN given, which names the database
}

func demoPathsIn(dir string) demoPaths {
	return demoPaths{dir: dir, state: filepath.Join(dir, "demo-state.json"), info: filepath.Join(dir, "demo.json"),
		risk: filepath.Join(dir, "risk.yaml"), merchantKey: filepath.Join(dir, "merchant.key"), pki: pki.Paths(filepath.Join(dir, "pki")),
		ds: "sqlite:" + filepath.Join(dir, "ds.db"), acs: "sqlite:" + filepath.Join(dir, "acs.db"), tdss: "sqlite:" + filepath.Join(dir, "3dss.db")}
}

// demoSchemaOwner is the comment the demo puts on the schemas it makes: it drops and remakes only
// schemas that carry it.
const demoSchemaOwner = "open3ds demo"

// checkDemoPostgres refuses a --postgres that is no PostgreSQL DSN, or whose search_path would not
// make good schema names.
func checkDemoPostgres(dsn string) error {
	_, err := demoSchemas(dsn)
	return err
}

// demoSchemas names the roles' schemas, as ds, acs, tdss: the DSN's search_path, or open3ds_demo,
// followed by the role. Several roles cannot share one schema: the migration set is shared and
// some of its tables (exchanges, audit_log, the console's accounts and sessions, job_leases,
// schema_migrations) are every role's, unprefixed.
func demoSchemas(dsn string) ([]string, error) {
	prefix, err := store.PostgresSearchPath(dsn)
	if err != nil {
		return nil, err
	}
	if prefix == "" {
		prefix = "open3ds_demo"
	}
	out := []string{prefix + "_ds", prefix + "_acs", prefix + "_3dss"}
	for _, s := range out {
		if err := store.CheckSchemaName(s); err != nil {
			return nil, fmt.Errorf("search_path %q is used as the prefix of the roles' schemas: %w", prefix, err)
		}
	}
	return out, nil
}

// onPostgres points the roles' DSNs at their schemas in the database dsn names.
func (p demoPaths) onPostgres(dsn string) (demoPaths, error) {
	schemas, err := demoSchemas(dsn)
	if err != nil {
		return p, err
	}
	dsns := make([]string, len(schemas))
	for i, s := range schemas {
		if dsns[i], err = store.SchemaDSN(dsn, s); err != nil {
			return p, err
		}
	}
	p.ds, p.acs, p.tdss, p.schemas, p.postgres = dsns[0], dsns[1], dsns[2], schemas, dsn
	return p, nil
}

// demoStoresAt says where the stores are, for messages.
func demoStoresAt(schemas []string) string {
	if len(schemas) == 0 {
		return "the SQLite files of the data directory"
	}
	return "the PostgreSQL schemas " + strings.Join(schemas, ", ")
}

// demoPrepareSchemas makes the roles' schemas on the first run, dropping what an earlier demo left
// in them; on a later run it checks that they are still there. Either way it migrates them.
func demoPrepareSchemas(ctx context.Context, p demoPaths, first bool) error {
	for i, s := range p.schemas {
		dsn := []string{p.ds, p.acs, p.tdss}[i]
		state, err := store.EnsureSchema(ctx, dsn, s, demoSchemaOwner, first)
		switch {
		case errors.Is(err, store.ErrSchemaNotOurs):
			return exitError{code: 2, msg: fmt.Sprintf("demo: the schema %s exists and was not made by the demo, which leaves it alone; set another prefix with search_path=NAME in the DSN", s)}
		case err != nil:
			return fmt.Errorf("demo: %w", err)
		case !first && state == store.SchemaCreated:
			return exitError{code: 2, msg: fmt.Sprintf("demo: the schema %s, which %s was seeded in, is gone; remove the directory to start afresh", s, p.dir)}
		}
		// The demo migrates its schemas itself, as SQLite files are, on every start: it is their
		// only user, and a newer open3ds finds them behind.
		db, err := openDemoStore(ctx, dsn)
		if err != nil {
			return fmt.Errorf("demo: migrating the schema %s: %w", s, err)
		}
		db.Close()
	}
	return nil
}

// demoPrepare makes the data directory on the first run, or reads it on a later one. first says
// which it was. A later run on other addresses than the first is refused: the registry would send
// browsers and AReqs to ports nobody listens on.
func demoPrepare(ctx context.Context, e env, p demoPaths, u demoURLs) (st demoState, first bool, err error) {
	b, err := os.ReadFile(p.state)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &st); err != nil {
			return st, false, fmt.Errorf("demo: %s is damaged (%v); remove %s to start afresh", p.state, err, p.dir)
		}
		if st.Seeded != u {
			return st, false, exitError{code: 2, msg: fmt.Sprintf("demo: %s was set up for the shop at %s; run with the same --host and --port, or remove the directory to start afresh",
				p.dir, st.Seeded.Shop)}
		}
		if !slices.Equal(st.Schemas, p.schemas) {
			return st, false, exitError{code: 2, msg: fmt.Sprintf("demo: %s was set up with its stores in %s, not %s; run as then (--postgres), or remove the directory to start afresh",
				p.dir, demoStoresAt(st.Schemas), demoStoresAt(p.schemas))}
		}
		if err := demoPrepareSchemas(ctx, p, false); err != nil {
			return st, false, err
		}
		return st, false, os.WriteFile(p.risk, []byte(demoRisk), 0o600)
	case !errors.Is(err, fs.ErrNotExist):
		return st, false, err
	}
	// A directory left by a run that stopped half-way is started again from nothing.
	for _, name := range []string{"pki", "ds.db", "acs.db", "3dss.db"} {
		os.RemoveAll(filepath.Join(p.dir, name))
	}
	if err := os.MkdirAll(p.dir, 0o700); err != nil {
		return st, false, err
	}
	// So are the schemas on PostgreSQL: the directory's state says what they hold.
	if err := demoPrepareSchemas(ctx, p, true); err != nil {
		return st, false, err
	}
	if _, err := pki.Init(p.pki.Dir, pki.InitOptions{}); err != nil {
		return st, false, err
	}
	if st.Secrets, err = newDemoSecrets(); err != nil {
		return st, false, err
	}
	if err := os.WriteFile(p.risk, []byte(demoRisk), 0o600); err != nil {
		return st, false, err
	}
	if st.Secrets.MerchantKey, err = demoSeed(ctx, e, p, u, st.Secrets); err != nil {
		return st, false, fmt.Errorf("demo: setting up the network: %w", err)
	}
	if err := os.WriteFile(p.merchantKey, []byte(st.Secrets.MerchantKey+"\n"), 0o600); err != nil {
		return st, false, err
	}
	st.Seeded, st.Schemas = u, p.schemas
	b, _ = json.MarshalIndent(st, "", "  ")
	// The state file is written last: its presence says the directory is complete.
	return st, true, os.WriteFile(p.state, b, 0o600)
}

// Identities of the demo network, as its registries know them.
const (
	demoRequestorID = "OPEN3DS*DEMO-SHOP"
	demoACSRef      = "OPEN3DS-DEMO-ACS"
	demoTDSSRef     = "OPEN3DS-DEMO-3DSS"
	demoDSRef       = "OPEN3DS-DEMO-DS"

	demoMerchantName     = "open3ds demo shop"
	demoAcquirerBIN      = "400551"
	demoAcquirerMerchant = "DEMO-SHOP-0001"
)

// demoSeed fills the three stores through the same enrol commands an operator would run, and adds
// the merchant directly, since its API key must be kept for the shop.
func demoSeed(ctx context.Context, e env, p demoPaths, u demoURLs, sec demoSecrets) (merchantKey string, err error) {
	environ := map[string]string{"OPEN3DS_VAULT_KEYS": sec.VaultKeys}
	enrol := func(args ...string) error {
		var out, errOut bytes.Buffer
		ee := env{getenv: func(k string) string { return environ[k] }, stdin: strings.NewReader(""), stdout: &out, stderr: &errOut}
		if err := run(ctx, append([]string{"enrol"}, args...), ee.getenv, ee.stdin, ee.stdout, ee.stderr); err != nil {
			return fmt.Errorf("enrol %s %s: %v %s", args[0], args[1], err, strings.TrimSpace(errOut.String()))
		}
		return nil
	}
	steps := [][]string{
		// The scheme: its DS, the ACS under its certificate's name, an ACS that is down, the 3DS Server.
		// The demo takes app AReqs from any SDK, with a warning in the log, since whoever tries it
		// brings their own; a scheme lists the SDKs it approved with `enrol sdk add` instead.
		{"scheme", "set", "--dsn", p.ds, "--ds-id", pki.DefaultDSID, "--ref", demoDSRef, "--eci", "default",
			"--stand-in-not-enrolled", "attempts", "--stand-in-unavailable", "attempts", "--unknown-sdk", "accept"},
		{"acs", "add", "--dsn", p.ds, "--name", "acs", "--ref", demoACSRef, "--url", u.ACSProtocol + "/areq"},
		{"acs", "add", "--dsn", p.ds, "--name", "acs-offline", "--ref", "OPEN3DS-DEMO-ACS-OFFLINE", "--url", u.ACSDown + "/areq"},
		{"3dss", "add", "--dsn", p.ds, "--name", "3dss", "--ref", demoTDSSRef, "--requestors", demoRequestorID},
		{"range", "add", "--dsn", p.ds, "--start", "4000000000000000", "--end", "4000019999999999", "--acs", "acs",
			"--method-url", u.ACSPublic + "/method"},
		{"range", "add", "--dsn", p.ds, "--start", "4000020000000000", "--end", "4000029999999999", "--acs", "acs-offline"},
		{"range", "add", "--dsn", p.ds, "--start", "4000030000000000", "--end", "4000039999999999", "--acs", "acs",
			"--method-url", u.ACSPublic + "/method"},
		// The issuer's side: one bank deciding by risk, one that always steps up.
		{"issuer", "add", "--dsn", p.acs, "--id", demoIssuer, "--name", "Demo Bank", "--ranges", "400000", "--not-enrolled", "A",
			"--support-text", "Questions? Call Demo Bank on 0800 000 000 (a demo number)."},
		{"issuer", "add", "--dsn", p.acs, "--id", demoIssuerStepUp, "--name", "Demo Bank (step-up BIN)", "--brand-name", "Demo Bank",
			"--ranges", "400001", "--not-enrolled", "A", "--support-text", "Questions? Call Demo Bank on 0800 000 000 (a demo number)."},
		{"issuer", "add", "--dsn", p.acs, "--id", demoIssuerDecoupled, "--name", "Demo Bank (app approval BIN)", "--brand-name", "Demo Bank",
			"--ranges", "400003", "--not-enrolled", "A", "--decoupled", "--support-text", "Questions? Call Demo Bank on 0800 000 000 (a demo number)."},
	}
	for _, c := range demoCards {
		if c.Status == "" {
			continue
		}
		args := []string{"cardholder", "add", "--dsn", p.acs, "--issuer", c.Issuer, "--pan", c.PAN, "--status", c.Status,
			"--expiry", demoYYMM(demoExpiry)}
		if c.Mobile != "" {
			args = append(args, "--mobiles", c.Mobile)
		}
		if c.Email != "" {
			args = append(args, "--emails", c.Email)
		}
		if c.AppUI != "" {
			args = append(args, "--app-ui", c.AppUI)
		}
		steps = append(steps, args)
	}
	// The bench's accounts go in through one import file, as an issuer loads its card base.
	var csv strings.Builder
	csv.WriteString("issuer,pan,expiry,mobiles\n")
	for _, pan := range demoBenchCards() {
		fmt.Fprintf(&csv, "%s,%s,%s,%s\n", demoIssuer, pan, demoYYMM(demoExpiry), demoMobile)
	}
	benchFile := filepath.Join(p.dir, "bench-cardholders.csv")
	if err := os.WriteFile(benchFile, []byte(csv.String()), 0o600); err != nil {
		return "", err
	}
	defer os.Remove(benchFile)
	steps = append(steps, []string{"cardholder", "import", "--dsn", p.acs, benchFile})
	for _, s := range steps {
		if err := enrol(s...); err != nil {
			return "", err
		}
	}

	db, err := openDemoStore(ctx, p.tdss)
	if err != nil {
		return "", err
	}
	defer db.Close()
	created, err := threedsserver.AddMerchant(ctx, threedsserver.NewSQLStore(db), threedsserver.Merchant{
		ID: "demo-shop", Name: demoMerchantName, RequestorID: demoRequestorID, RequestorName: demoMerchantName,
		RequestorURL: u.Shop, AcquirerBIN: demoAcquirerBIN, AcquirerMerchantID: demoAcquirerMerchant, MCC: "5732", Country: "250",
	}, time.Now())
	if err != nil {
		return "", err
	}
	return created.APIKey, nil
}

// demoYYMM turns the shopper's MM/YY into the card expiry YYMM the stores keep.
func demoYYMM(mmyy string) string {
	mm, yy, _ := strings.Cut(mmyy, "/")
	return yy + mm
}
