/*
 * ctl_parse - "feedbackctl parse [--json] FILE...": run the inbound report
 * parser over message files and print what it finds
 *
 * One line per reported recipient: a JSON object with the keys file, kind,
 * recipient, orig_recipient, class, reason, status, action, reply_code,
 * command, diagnostic, remote_mta, reporting_mta, feedback_type, message_id
 * and orig_sender, or a table with aligned columns. A file that reports
 * nothing gives one line with class "unknown" (JSON) or "no report"
 * (table). FILE "-" reads standard input.
 */
#ifndef FM_CTL_PARSE_H
#define FM_CTL_PARSE_H

/*
 * fm_ctl_parse - argv holds the arguments after "parse". Returns 0 when
 * every file was read and parsed, 1 when one could not be, 64 on a usage
 * error. Initialises the parser itself (fm_report_init).
 */
int fm_ctl_parse(int argc, char **argv);

#endif
