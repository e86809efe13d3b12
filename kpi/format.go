package kpi

import (
	"strconv"
	"strings"
)

// Dash stands for a figure without data (no visits, no answers).
const Dash = "—"

// decimal writes v with one decimal and the Italian decimal comma.
func decimal(v float64) string {
	return strings.Replace(strconv.FormatFloat(v, 'f', 1, 64), ".", ",", 1)
}

// Minutes formats a duration figure in minutes: "12,8" or "—".
func Minutes(v Value) string {
	if !v.OK {
		return Dash
	}
	return decimal(v.V)
}

// Percent formats a share (0…1) as a percentage: "42,9%" or "—".
func Percent(v Value) string {
	if !v.OK {
		return Dash
	}
	return decimal(v.V*100) + "%"
}

// Score formats a mean score (1…5): "3,7" or "—".
func Score(v Value) string {
	if !v.OK {
		return Dash
	}
	return decimal(v.V)
}

// machine formats a figure for the CSV: a dot decimal with two places, or
// empty when undefined.
func machine(v Value, scale float64) string {
	if !v.OK {
		return ""
	}
	return strconv.FormatFloat(v.V*scale, 'f', 2, 64)
}
