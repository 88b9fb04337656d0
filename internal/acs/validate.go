package acs

import (
	"fmt"
	"net/mail"
	"net/url"
	"strings"
)

// Check reports the first thing wrong with an issuer, and fills in defaults for what was left empty.
func (is *Issuer) Check() error {
	if is.ID == "" || strings.ContainsAny(is.ID, " \t\r\n/") {
		return &FieldError{"id", "must be a non-empty word without spaces or slashes"}
	}
	if is.Name == "" {
		return &FieldError{"name", "is required"}
	}
	if len(is.Ranges) == 0 {
		return &FieldError{"ranges", "needs at least one card range"}
	}
	for i, r := range is.Ranges {
		if !digits(r.Start) || !digits(r.End) || len(r.Start) > 19 || len(r.End) > 19 {
			return &FieldError{fmt.Sprintf("ranges[%d]", i), "bounds must be 1 to 19 digits"}
		}
		if lowBound(r.Start) > highBound(r.End) {
			return &FieldError{fmt.Sprintf("ranges[%d]", i), "start is after end"}
		}
	}
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&is.ECIStyle, "visa")
	def(&is.AuthValueKeyRef, is.ID)
	def(&is.RiskPolicy, is.ID)
	def(&is.NotEnrolledPolicy, "N")
	def(&is.NoChallengePolicy, "N")
	def(&is.Brand.Name, is.Name)
	if is.ECIStyle != "visa" && is.ECIStyle != "mastercard" {
		return &FieldError{"eciStyle", `must be "visa" or "mastercard"`}
	}
	if is.NotEnrolledPolicy != "N" && is.NotEnrolledPolicy != "A" {
		return &FieldError{"notEnrolledPolicy", `must be "N" or "A"`}
	}
	if is.NoChallengePolicy != "N" && is.NoChallengePolicy != "A" {
		return &FieldError{"noChallengePolicy", `must be "N" or "A"`}
	}
	if is.OTP.Length == 0 {
		is.OTP.Length = 6
	}
	if is.OTP.TTLSeconds == 0 {
		is.OTP.TTLSeconds = 300
	}
	if is.OTP.MaxAttempts == 0 {
		is.OTP.MaxAttempts = 3
	}
	if is.OTP.MaxResends == 0 {
		is.OTP.MaxResends = 3
	}
	if is.OTP.Length < 4 || is.OTP.Length > 10 {
		return &FieldError{"otp.length", "must be 4 to 10 digits"}
	}
	if is.Brand.LogoURL != "" {
		if u, err := url.Parse(is.Brand.LogoURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") {
			return &FieldError{"brand.logoURL", "must be an http or https URL"}
		}
	}
	return nil
}

// Check reports the first thing wrong with a cardholder, and fills in defaults for what was left
// empty.
func (c *Cardholder) Check() error {
	if c.IssuerID == "" {
		return &FieldError{"issuer", "is required"}
	}
	if !digits(c.PAN) || len(c.PAN) < 13 || len(c.PAN) > 19 {
		return &FieldError{"pan", "must be 13 to 19 digits"}
	}
	if c.Expiry != "" && (!digits(c.Expiry) || len(c.Expiry) != 4 || c.Expiry[2:] < "01" || c.Expiry[2:] > "12") {
		return &FieldError{"expiry", "must be YYMM"}
	}
	if c.Status == "" {
		c.Status = StatusEnrolled
	}
	switch c.Status {
	case StatusEnrolled, StatusBlocked, StatusNotEnrolled:
	default:
		return &FieldError{"status", "must be enrolled, blocked or not_enrolled"}
	}
	for i, m := range c.Mobiles {
		if !digits(strings.TrimPrefix(m, "+")) || len(m) < 6 || len(m) > 16 {
			return &FieldError{fmt.Sprintf("mobiles[%d]", i), "must be an international number: + and up to 15 digits"}
		}
	}
	for i, e := range c.Emails {
		if a, err := mail.ParseAddress(e); err != nil || a.Address != e {
			return &FieldError{fmt.Sprintf("emails[%d]", i), "must be a plain e-mail address"}
		}
	}
	if c.PreferredChannel == "" {
		c.PreferredChannel = "sms"
		if len(c.Mobiles) == 0 && len(c.Emails) > 0 {
			c.PreferredChannel = "email"
		}
	}
	if c.PreferredChannel != "sms" && c.PreferredChannel != "email" {
		return &FieldError{"preferredChannel", `must be "sms" or "email"`}
	}
	if c.Locale == "" {
		c.Locale = "en"
	}
	switch c.AppUI {
	case "", UICode, UISelect, UIMulti, UIOOB, UIHTML:
	default:
		return &FieldError{"appUI", "must be empty or an acsUiType 01 to 05"}
	}
	return nil
}

// lowBound and highBound widen a range bound to 19 digits, so that ranges and PANs compare as text.
func lowBound(s string) string  { return s + strings.Repeat("0", 19-len(s)) }
func highBound(s string) string { return s + strings.Repeat("9", 19-len(s)) }
