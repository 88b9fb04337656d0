package emv

// RepeatedKeyLooks is how many keys the scanner's repeated-key checks looked at in data.
func RepeatedKeyLooks(data []byte) int {
	_, _, n, _ := scanCounting(data)
	return n
}
