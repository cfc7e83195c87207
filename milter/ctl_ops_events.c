/*
 * ctl_ops_events - "feedbackctl events": the recorded bounces, delay
 * notices, auto-replies and complaints
 *
 *	events [--since WHEN] [--class C] [--domain D] [--recipient ADDR]
 *	       [--code CODE] [--limit N] [--json | --csv] [--follow]
 *
 * Prints the events that pass the filters, newest first: an aligned table
 * (id, time, class, reason, status, recipient, original sender), CSV with
 * a head line, or one JSON object per line with every recorded field, the
 * DKIM results and the send the event came back to (--json).
 *
 * --follow is for applications: it prints the events recorded from now
 * on as JSON lines, oldest first, flushing each line, until SIGINT or
 * SIGTERM or until the reader goes away (EPIPE, or a pipe whose reader
 * closed it, seen while waiting); all of these end it with status 0. With --since or --limit the matching events already recorded
 * come first. The store is asked again every second for events after the
 * last id printed; each poll reads one snapshot of the database.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "ctl_ops.h"

enum { OPT_SINCE = 1, OPT_CLASS, OPT_DOMAIN, OPT_RCPT, OPT_CODE, OPT_LIMIT,
       OPT_JSON, OPT_CSV, OPT_FOLLOW };

#define POLL_MS 1000		/* --follow: between polls */

static const char *const ev_head[] = {
	"ID", "TIME", "CLASS", "REASON", "STATUS", "RECIPIENT", "SENDER",
};
#define EV_NCOLS (sizeof(ev_head) / sizeof(ev_head[0]))

static const char *const ev_csv_head[] = {
	"id", "created", "class", "reason", "status", "action", "recipient",
	"orig_recipient", "sender", "code", "verified", "queue_id",
	"diagnostic", "remote_mta", "reporting_mta", "feedback_type", "kind",
	"replycode", "client_addr", "of_send",
};
#define EV_CSV_NCOLS (sizeof(ev_csv_head) / sizeof(ev_csv_head[0]))

/* The command's state. */
typedef struct {
	fm_ops_fmt_t fmt;
	int follow;
	int backlog;		/* --since or --limit: print what is there */
	fm_event_filter_t f;
	fm_ops_table_t *table;
	int nomem;
	int write_err;		/* errno of a failed write, --follow */
	long long last_id;	/* the highest id seen */
	long long min_id;	/* the lowest id seen */
} ev_out_t;

static volatile sig_atomic_t ev_stop;

/* on_signal - SIGINT, SIGTERM: end --follow after the current poll */
static void
on_signal(int sig)
{
	(void)sig;
	ev_stop = 1;
}

/* json_kv - ,"key":"value" */
static void
json_kv(const char *key, const char *value)
{
	printf(",\"%s\":", key);
	fm_json_string(stdout, value);
}

/* print_send - the members that describe the event's send */
static void
print_send(const fm_event_t *ev, const fm_send_t *send)
{
	size_t i;

	if (send == NULL) {
		fputs(",\"send_id\":null,\"sender\":null,\"msgid\":null,"
		      "\"sent\":null,\"recipients\":[]", stdout);
		return;
	}
	printf(",\"send_id\":%lld", ev->send_id);
	json_kv("sender", send->sender);
	json_kv("msgid", send->msgid);
	printf(",\"sent\":%lld,\"recipients\":[", (long long)send->created);
	for (i = 0; i < send->nrcpts; i++) {
		fputs(i ? "," : "", stdout);
		fm_json_string(stdout, send->rcpts[i]);
	}
	fputc(']', stdout);
}

/* print_json - one event as a JSON object on one line */
static void
print_json(const fm_event_t *ev, const fm_send_t *send)
{
	size_t i;

	printf("{\"id\":%lld,\"created\":%lld", ev->id, (long long)ev->created);
	json_kv("class", ev->cls);
	json_kv("reason", ev->reason);
	json_kv("status", ev->status);
	json_kv("action", ev->action);
	json_kv("recipient", ev->recipient);
	json_kv("orig_recipient", ev->orig_recipient);
	json_kv("code", ev->code);
	printf(",\"verified\":%s", ev->verified ? "true" : "false");
	printf(",\"of_send\":%s", ev->rcpt_of_send ? "true" : "false");
	json_kv("queue_id", ev->queue_id);
	json_kv("diagnostic", ev->diagnostic);
	json_kv("remote_mta", ev->remote_mta);
	json_kv("reporting_mta", ev->reporting_mta);
	json_kv("feedback_type", ev->feedback_type);
	json_kv("kind", ev->kind);
	if (ev->replycode > 0)
		printf(",\"replycode\":%d", ev->replycode);
	else
		fputs(",\"replycode\":null", stdout);
	json_kv("client_addr", ev->client_addr);
	json_kv("helo", ev->helo);
	json_kv("envfrom", ev->envfrom);
	json_kv("spf_result", ev->spf_result);
	json_kv("spf_domain", ev->spf_domain);
	fputs(",\"dkim\":[", stdout);
	for (i = 0; i < ev->nsigs; i++) {
		fputs(i ? ",{\"domain\":" : "{\"domain\":", stdout);
		fm_json_string(stdout, ev->sigs[i].domain);
		json_kv("selector", ev->sigs[i].selector);
		json_kv("result", ev->sigs[i].result);
		fputc('}', stdout);
	}
	fputc(']', stdout);
	print_send(ev, send);
	fputs("}\n", stdout);
}

/* print_csv - one event as a CSV record */
static void
print_csv(const fm_event_t *ev, const fm_send_t *send)
{
	char id[24], created[32], code[16];
	const char *row[EV_CSV_NCOLS] = {
		id, fm_ops_time_iso(ev->created, created, sizeof(created)),
		ev->cls, ev->reason, ev->status, ev->action, ev->recipient,
		ev->orig_recipient, send ? send->sender : NULL, ev->code,
		ev->verified ? "1" : "0", ev->queue_id, ev->diagnostic,
		ev->remote_mta, ev->reporting_mta, ev->feedback_type, ev->kind,
		ev->replycode > 0 ? code : NULL, ev->client_addr,
		ev->rcpt_of_send ? "1" : "0",
	};

	snprintf(id, sizeof(id), "%lld", ev->id);
	snprintf(code, sizeof(code), "%d", ev->replycode);
	fm_ops_csv_row(stdout, EV_CSV_NCOLS, row);
}

/* each_event - the fm_event_cb: print or keep one event */
static int
each_event(const fm_event_t *ev, const fm_send_t *send, void *arg)
{
	ev_out_t *o = arg;
	char id[24], tbuf[32];
	const char *row[EV_NCOLS] = {
		id, fm_ops_time(ev->created, tbuf, sizeof(tbuf)), ev->cls,
		ev->reason, ev->status, ev->recipient, send ? send->sender : NULL,
	};

	if (ev->id > o->last_id)
		o->last_id = ev->id;
	if (o->min_id == 0 || ev->id < o->min_id)
		o->min_id = ev->id;
	if (o->follow || o->fmt == FM_OPS_JSON) {
		print_json(ev, send);
		if (o->follow && fflush(stdout) == EOF) {
			o->write_err = errno ? errno : EIO;
			return 1;
		}
	} else if (o->fmt == FM_OPS_CSV) {
		print_csv(ev, send);
	} else {
		snprintf(id, sizeof(id), "%lld", ev->id);
		if (fm_ops_table_add(o->table, row) < 0) {
			o->nomem = 1;
			return 1;
		}
	}
	return 0;
}

/* note_id - an fm_event_cb that only notes ids */
static int
note_id(const fm_event_t *ev, const fm_send_t *send, void *arg)
{
	ev_out_t *o = arg;

	(void)send;
	if (ev->id > o->last_id)
		o->last_id = ev->id;
	if (o->min_id == 0 || ev->id < o->min_id)
		o->min_id = ev->id;
	return 0;
}

/* class_ok - is cls one of the class names? */
static int
class_ok(const char *cls)
{
	size_t i;

	for (i = 0; i < FM_NCLASSES; i++)
		if (strcmp(cls, fm_config_class_names[i]) == 0)
			return 1;
	return 0;
}

/* events_args - the options; 0, or the exit status of a usage error */
static int
events_args(int argc, char **argv, ev_out_t *o)
{
	static const fm_ops_opt_t opts[] = {
		{"since", 1, OPT_SINCE}, {"class", 1, OPT_CLASS},
		{"domain", 1, OPT_DOMAIN}, {"recipient", 1, OPT_RCPT},
		{"code", 1, OPT_CODE}, {"limit", 1, OPT_LIMIT},
		{"json", 0, OPT_JSON}, {"csv", 0, OPT_CSV},
		{"follow", 0, OPT_FOLLOW}, {NULL, 0, 0},
	};
	const char *val, *what = NULL;
	fm_ops_args_t a;
	char *end;
	int id;

	fm_ops_args_init(&a, "events", argc, argv);
	while ((id = fm_ops_next(&a, opts, &val)) != FM_OPS_END) {
		switch (id) {
		case OPT_SINCE:
			o->backlog = 1;
			if (fm_ops_since(val, time(NULL), &o->f.since) < 0)
				what = "not a duration, a date or \"all\"";
			break;
		case OPT_CLASS:
			if (!class_ok(val))
				what = "not a class";
			o->f.cls = val;
			break;
		case OPT_DOMAIN: o->f.domain = val; break;
		case OPT_RCPT: o->f.recipient = val; break;
		case OPT_CODE: o->f.code = val; break;
		case OPT_LIMIT:
			o->backlog = 1;
			errno = 0;
			o->f.limit = (size_t)strtoul(val, &end, 10);
			if (val[0] < '0' || val[0] > '9' || *end || errno ||
			    o->f.limit == 0)
				what = "not a positive number";
			break;
		case OPT_JSON: o->fmt = FM_OPS_JSON; break;
		case OPT_CSV: o->fmt = FM_OPS_CSV; break;
		case OPT_FOLLOW: o->follow = 1; break;
		default: goto usage;
		}
		if (what != NULL) {
			fprintf(stderr, "feedbackctl: events: \"%s\" is %s\n",
				val, what);
			goto usage;
		}
	}
	if (o->follow && o->fmt == FM_OPS_CSV) {
		fprintf(stderr, "feedbackctl: events: --follow prints JSON\n");
		goto usage;
	}
	return 0;
usage:
	return fm_ops_usage("events [--since WHEN] [--class C] [--domain D] "
			    "[--recipient ADDR] [--code CODE] [--limit N] "
			    "[--json | --csv] [--follow]");
}

/* query - one pass over the store with o->f; 0, or -1 after a message */
static int
query(fm_store_t *st, ev_out_t *o, fm_event_cb *cb)
{
	char err[512];

	if (fm_store_each_event(st, &o->f, cb, o, err, sizeof(err)) < 0 &&
	    !o->nomem && !o->write_err) {
		fprintf(stderr, "feedbackctl: events: %s\n", err);
		return -1;
	}
	return 0;
}

/*
 * follow_start - print the backlog that --since or --limit ask for, or
 * find the newest id; o->last_id is where the polls start
 */
static int
follow_start(fm_store_t *st, ev_out_t *o)
{
	fm_event_filter_t f = o->f;

	if (!o->backlog) {
		memset(&o->f, 0, sizeof(o->f));
		o->f.limit = 1;
		if (query(st, o, note_id) < 0)
			return -1;
		o->f = f;
		return 0;
	}
	if (f.limit > 0) {
		if (query(st, o, note_id) < 0)
			return -1;
		if (o->min_id == 0)
			return 0;	/* nothing yet: follow from the start */
		o->f.after_id = o->min_id - 1;
		o->f.limit = 0;
	}
	o->f.ascending = 1;
	o->last_id = 0;
	return query(st, o, each_event);
}

/*
 * wait_reader - sleep ms, or less on a signal; -1 when standard output is
 * a pipe or socket whose reader went away (so that "| head -n 1" ends a
 * quiet --follow too, not only the next write)
 */
static int
wait_reader(int ms)
{
	struct pollfd p = { STDOUT_FILENO, 0, 0 };

	if (ev_stop)
		return 0;
	if (poll(&p, 1, ms) == 1 && (p.revents & (POLLERR | POLLHUP |
						    POLLNVAL)))
		return -1;
	return 0;
}

/* follow - poll every second for events after the last id printed */
static int
follow(fm_store_t *st, ev_out_t *o)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (follow_start(st, o) < 0)
		return EX_CONFIG;
	o->f.limit = 0;
	o->f.ascending = 1;
	while (!ev_stop && !o->write_err) {
		if (wait_reader(POLL_MS) < 0)
			o->write_err = EPIPE;
		if (ev_stop || o->write_err)
			break;
		o->f.after_id = o->last_id;
		if (query(st, o, each_event) < 0)
			return EX_CONFIG;
	}
	if (o->write_err && o->write_err != EPIPE) {
		fprintf(stderr, "feedbackctl: events: cannot write the "
			"output: %s\n", strerror(o->write_err));
		return EX_IOERR;
	}
	return EX_OK;
}

/* fm_ctl_events - the events, newest first, or followed */
int
fm_ctl_events(const fm_config_t *cfg, int argc, char **argv)
{
	fm_store_t *st = NULL;
	ev_out_t o;
	int status;

	memset(&o, 0, sizeof(o));
	if ((status = events_args(argc, argv, &o)) != 0)
		return status;
	if (o.fmt == FM_OPS_TABLE && !o.follow &&
	    (o.table = fm_ops_table_new(EV_NCOLS, ev_head, "rllllll")) == NULL) {
		o.nomem = 1;
		goto out;
	}
	if ((st = fm_ops_open(cfg, 1)) == NULL) {
		status = EX_CONFIG;
		goto out;
	}
	if (o.follow) {
		status = follow(st, &o);
		goto out;
	}
	if (o.fmt == FM_OPS_CSV)
		fm_ops_csv_row(stdout, EV_CSV_NCOLS, ev_csv_head);
	if (query(st, &o, each_event) < 0) {
		status = EX_CONFIG;
		goto out;
	}
	if (o.table != NULL && !o.nomem)
		fm_ops_table_print(o.table, stdout);
	status = fm_ops_flush();
out:
	if (o.nomem) {
		fprintf(stderr, "feedbackctl: events: out of memory\n");
		status = EX_SOFTWARE;
	}
	fm_store_close(st);
	fm_ops_table_free(o.table);
	return status;
}
