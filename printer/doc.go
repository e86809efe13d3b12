// Package printer prints Sportello's paper tickets on ESC/POS thermal
// printers, and makes the same ticket (and appointment confirmations) as
// PDF for the web channel.
//
// The pieces, each in its own file:
//
//   - Encoder (encoder.go) writes a small, fixed subset of ESC/POS, with
//     text in a single-byte code page (PC858 by default, so that € and
//     every Italian accent print) and control characters stripped, so
//     nothing from the hub can turn into a printer command.
//   - Profile (profile.go) holds what differs between printer models:
//     paper width, code page number, native or raster QR, Chinese mode.
//   - Layout (ticket.go) turns a Ticket into a job, byte for byte the same
//     for the same ticket.
//   - Sorter and Replies (status.go) read the printer's status bytes.
//   - Open (transport.go) turns the contract's printer SPEC into a
//     Printer over serial, usblp, TCP, a file or PNG images; the
//     bidirectional transports check the status before and after each job
//     and call a silent printer offline within seconds, so the agent can
//     report a ticket as not printed.
//   - RenderPNG (render.go) draws a job as the printer would, for tests,
//     the demo and people.
//   - TicketPDF and AppointmentPDF (pdf.go).
//
// No third-party ESC/POS library is used: none had cgo-free code pages,
// status reading with time-outs, or printer profiles.
package printer
