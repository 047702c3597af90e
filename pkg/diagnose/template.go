package diagnose

import "regexp"

// The parts of a log message that vary between lines of one template,
// masked in this order: UUIDs, hex ids of 8 or more characters that hold a
// digit, IPv4 addresses, then numbers.
var (
	uuidPattern   = regexp.MustCompile(`\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b`)
	ipPattern     = regexp.MustCompile(`\b[0-9]{1,3}(?:\.[0-9]{1,3}){3}\b`)
	hexIDPattern  = regexp.MustCompile(`\b(?:0x)?[0-9a-fA-F]*[0-9][0-9a-fA-F]*\b`)
	numberPattern = regexp.MustCompile(`[0-9]+(?:\.[0-9]+)?`)
)

// maxTemplateInput bounds the bytes of a message that are masked; a longer
// body is cut there first, so one huge log line costs no more than this.
const maxTemplateInput = 512

// Template masks the numbers and ids of a log message, so that lines
// written by the same statement fall into one template:
// "order 81723 failed after 1.5s" becomes "order <n> failed after <n>s".
func Template(message string) string {
	if len(message) > maxTemplateInput {
		message = message[:maxTemplateInput]
	}
	message = uuidPattern.ReplaceAllString(message, "<id>")
	message = hexIDPattern.ReplaceAllStringFunc(message, func(m string) string {
		if len(m) >= 8 {
			return "<id>"
		}
		return m
	})
	message = ipPattern.ReplaceAllString(message, "<ip>")
	return numberPattern.ReplaceAllString(message, "<n>")
}
