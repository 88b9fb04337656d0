package sdk

import (
	"bufio"
	"net"
	"os"
	"runtime"
	"strings"
	"time"
)

// DeviceInfo is the device information an SDK gathers. The SDK fills what Go can know of the machine
// it runs on; a field set here wins, since an app knows its device better (its model, its screen).
//
// Each field is one parameter of EMVCo's device information list, which the JSON names by code.
// PROTOCOL.md §1.5 names only the envelope (DV, DD, DPNA, SW) and C016/C018; the other codes are
// those of the public SDKs' device information lists as we know them [U: not checked against the
// EMVCo document]:
//
//	C001 platform            C002 device model     C003 OS name          C004 OS version
//	C005 locale (BCP 47)     C006 time zone        C008 screen (WxH)     C009 device name
//	C010 IP address          C013 app package      C014 sdkAppID         C015 SDK version
//	C016 sdkReferenceNumber  C017 date and time    C018 sdkTransID
type DeviceInfo struct {
	Platform         string // C001, e.g. "Android"; default Go's GOOS
	Model            string // C002
	OSName           string // C003; default GOOS
	OSVersion        string // C004; on Linux, VERSION_ID of /etc/os-release
	Locale           string // C005, e.g. "fr-FR"; default from LC_ALL or LANG
	TimeZone         string // C006, e.g. "Europe/Paris"; default the local zone
	ScreenResolution string // C008, e.g. "1080x2400"
	DeviceName       string // C009
	IP               string // C010; default the first non-loopback address
	AppPackage       string // C013, e.g. "com.example.shop"
}

// deviceDataVersion is DV, the version of the device information list the SDK writes.
const deviceDataVersion = "1.7"

// deviceData is the JSON the SDK encrypts to the DS: DV, the parameters it has (DD), those it has
// not with a reason (DPNA), and its security warnings (SW). A parameter with no value goes into
// DPNA as RE04 ("value is null or blank") [U: the reason codes, as public SDKs write them].
func (s *SDK) deviceData(sdkTransID string) map[string]any {
	d := s.cfg.Device
	params := []struct{ code, value string }{
		{"C001", d.Platform},
		{"C002", d.Model},
		{"C003", d.OSName},
		{"C004", d.OSVersion},
		{"C005", d.Locale},
		{"C006", d.TimeZone},
		{"C008", d.ScreenResolution},
		{"C009", d.DeviceName},
		{"C010", d.IP},
		{"C013", d.AppPackage},
		{"C014", s.cfg.AppID},
		{"C015", Version},
		{"C016", s.cfg.ReferenceNumber},
		{"C017", s.cfg.Now().UTC().Format("20060102150405")},
		{"C018", sdkTransID},
	}
	dd, dpna := map[string]string{}, map[string]string{}
	for _, p := range params {
		if p.value == "" {
			dpna[p.code] = "RE04"
		} else {
			dd[p.code] = p.value
		}
	}
	// No warnings: this SDK does not look for a rooted device, a debugger or an emulator.
	return map[string]any{"DV": deviceDataVersion, "DD": dd, "DPNA": dpna, "SW": []string{}}
}

// completeDevice fills what the app left empty in d with what Go can know of the machine. New calls
// it once: none of it changes from one purchase to the next, and gathering it for each transaction
// would read a file and list the interfaces on every purchase.
func completeDevice(d DeviceInfo) DeviceInfo {
	fill := func(v *string, gather func() string) {
		if *v == "" {
			*v = gather()
		}
	}
	fill(&d.Platform, func() string { return runtime.GOOS })
	fill(&d.OSName, func() string { return runtime.GOOS })
	fill(&d.OSVersion, osVersion)
	fill(&d.Locale, locale)
	fill(&d.TimeZone, timeZone)
	fill(&d.IP, firstIP)
	return d
}

// timeZone is the local zone's name, or its offset when the zone has no name.
func timeZone() string {
	if name := time.Local.String(); name != "" && name != "Local" {
		return name
	}
	return time.Now().Format("-07:00")
}

// osVersion reads VERSION_ID from /etc/os-release, where Linux distributions keep it; elsewhere
// it is not known.
func osVersion() string {
	f, err := os.Open("/etc/os-release")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VERSION_ID="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

// locale turns a POSIX locale (fr_FR.UTF-8) into a BCP 47 tag (fr-FR).
func locale() string {
	v := os.Getenv("LC_ALL")
	if v == "" {
		v = os.Getenv("LANG")
	}
	v, _, _ = strings.Cut(v, ".")
	v, _, _ = strings.Cut(v, "@")
	if v == "" || v == "C" || v == "POSIX" {
		return ""
	}
	return strings.ReplaceAll(v, "_", "-")
}

// firstIP is the first address of an interface that is up and not loopback.
func firstIP() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String()
		}
	}
	return ""
}
