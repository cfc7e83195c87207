/*
 * main - the feedback-milter daemon: options, configuration, privileges,
 * signals and the libmilter main loop
 *
 * Start-up order matters: the configuration and keys are checked first (so
 * that -n and a bad start fail with the file, line and option); the socket
 * is opened as root; then the process detaches, writes its pid file and
 * drops to UserID; only then is the store opened (its files belong to
 * UserID, and SQLite connections must not cross a fork) and libmilter
 * started in a thread of its own.
 *
 * Signals: the main thread owns SIGHUP and reloads the configuration and
 * keys on it. libmilter's own signal thread treats SIGHUP as "stop", so
 * sigwait() below narrows the set libmilter waits on to SIGTERM and SIGINT,
 * which stop the milter cleanly as before.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "autoconfig.h"
#include "config.h"
#include "eventlog.h"
#include "keycache.h"
#include "mlfi.h"
#include "pipeline.h"
#include "store.h"

/*
 * At SIGTERM, how long callbacks under way (DNS lookups, a commit waiting
 * for a lock) may take before the daemon exits without them.
 */
#define FM_SHUTDOWN_WAIT 30

static pthread_mutex_t cfg_lock = PTHREAD_MUTEX_INITIALIZER;
static fm_config_t *cfg_current;
static fm_store_t *store_current;	/* for rules after a reload */
static volatile int milter_done;

/*
 * sigwait - libmilter's signal thread waits here; SIGHUP is taken out of
 * its set so that only the main thread (which reloads) ever receives it.
 */
int
sigwait(const sigset_t *set, int *sig)
{
	sigset_t narrowed = *set;
	int rc;

	sigdelset(&narrowed, SIGHUP);
	do {
		rc = sigtimedwait(&narrowed, NULL, NULL);
	} while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return errno;
	*sig = rc;
	return 0;
}

/* current_config - a reference to the newest configuration snapshot */
static fm_config_t *
current_config(void)
{
	fm_config_t *cfg;

	pthread_mutex_lock(&cfg_lock);
	cfg = fm_config_ref(cfg_current);
	pthread_mutex_unlock(&cfg_lock);
	return cfg;
}

/* usage - the synopsis, then exit */
static void
usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: feedback-milter [-fhnV] [-c config-file]\n"
		"  -c FILE  configuration file (default %s)\n"
		"  -f       stay in the foreground and log to stderr too\n"
		"  -h       print this help and exit\n"
		"  -n       check the configuration and keys, then exit\n"
		"  -V       print the version and exit\n", FM_DEFAULT_CONFIG);
	exit(status);
}

/* load - configuration and keys, or a message naming what is wrong */
static fm_config_t *
load(const char *path, char *err, size_t errlen)
{
	fm_config_t *cfg = fm_config_load(path, err, errlen);
	char why[512];

	if (cfg == NULL)
		return NULL;
	if (fm_config_load_keys(cfg, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: KeyFile: %s", path, why);
		fm_config_unref(cfg);
		return NULL;
	}
	return cfg;
}

/* advice_log - fm_config_advise: one warning in the log */
static void
advice_log(void *arg, const char *text)
{
	(void)arg;
	fm_log(LOG_WARNING, NULL, "%s", text);
}

/* advice_print - fm_config_advise: one warning on stderr (-n) */
static void
advice_print(void *arg, const char *text)
{
	fprintf(stderr, "feedback-milter: %s: warning: %s\n",
		(const char *)arg, text);
}

/* changed - compare a setting that only a restart can change */
static int
changed(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0);
}

/*
 * reload - SIGHUP: swap in a new snapshot, or keep the old one; 1 when
 * Retention changed (the next prune is then a minute away, not a day)
 */
static int
reload(const char *path)
{
	int again;
	fm_config_t *cfg, *old;
	char err[1024];

	if ((cfg = load(path, err, sizeof(err))) == NULL) {
		fm_log(LOG_ERR, NULL, "reload refused, keeping the running "
		       "configuration: %s", err);
		return 0;
	}
	pthread_mutex_lock(&cfg_lock);
	old = cfg_current;
	cfg_current = cfg;
	pthread_mutex_unlock(&cfg_lock);
	if (changed(old->socket, cfg->socket))
		fm_log(LOG_WARNING, NULL, "Socket changed: takes effect at restart");
	if (changed(old->user_id, cfg->user_id))
		fm_log(LOG_WARNING, NULL, "UserID changed: takes effect at restart");
	if (changed(old->database, cfg->database))
		fm_log(LOG_WARNING, NULL, "Database changed: takes effect at restart");
	if (changed(old->nameservers, cfg->nameservers) ||
	    old->dns_timeout_ms != cfg->dns_timeout_ms)
		fm_log(LOG_WARNING, NULL, "Nameservers or DnsTimeout changed: "
		       "takes effect at restart");
	if (old->socket_mode != cfg->socket_mode)
		fm_log(LOG_WARNING, NULL, "SocketMode changed: takes effect at "
		       "restart");
	if (changed(old->pid_file, cfg->pid_file))
		fm_log(LOG_WARNING, NULL, "PidFile changed: takes effect at "
		       "restart");
	if (old->syslog != cfg->syslog ||
	    old->syslog_facility != cfg->syslog_facility)
		fm_log(LOG_WARNING, NULL, "Syslog or SyslogFacility changed: "
		       "takes effect at restart");
	if (old->busy_timeout_ms != cfg->busy_timeout_ms)
		fm_log(LOG_WARNING, NULL, "DatabaseBusyTimeout changed: takes "
		       "effect at restart");
	fm_config_advise(cfg, advice_log, NULL);
	fm_log_set_level(cfg->log_level);
	fm_store_set_rules(store_current, &cfg->rules);
	fm_store_set_cache(store_current, cfg->db_cache_kib);
	fm_log(LOG_NOTICE, NULL, "reloaded %s: %zu sender domains, %d keys "
	       "(signing key %d)", path, cfg->ndomains,
	       fm_keyring_count(cfg->keys), fm_keyring_signing_id(cfg->keys));
	again = old->retention != cfg->retention;
	fm_config_unref(old);
	return again;
}

/* lookup_user - resolve UserID ("user" or "user:group") */
static int
lookup_user(const char *spec, uid_t *uid, gid_t *gid, char **name)
{
	char user[256], *colon;
	struct passwd *pw;
	struct group *gr;

	snprintf(user, sizeof(user), "%s", spec);
	if ((colon = strchr(user, ':')) != NULL)
		*colon++ = '\0';
	if ((pw = getpwnam(user)) == NULL) {
		fprintf(stderr, "feedback-milter: UserID: no user \"%s\"\n", user);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (colon != NULL) {
		if ((gr = getgrnam(colon)) == NULL) {
			fprintf(stderr, "feedback-milter: UserID: no group \"%s\"\n",
				colon);
			return -1;
		}
		*gid = gr->gr_gid;
	}
	*name = strdup(pw->pw_name);
	return *name ? 0 : -1;
}

/* ensure_dir - create the directory of path for uid if it is missing */
static void
ensure_dir(const char *path, uid_t uid, gid_t gid, mode_t mode)
{
	char copy[1024];
	const char *dir;

	snprintf(copy, sizeof(copy), "%s", path);
	dir = dirname(copy);
	if (access(dir, F_OK) == 0)
		return;
	if (mkdir(dir, mode) == 0) {
		if (chown(dir, uid, gid) < 0)
			fm_log_errno(LOG_WARNING, NULL, "chown %s", dir);
	} else {
		fm_log_errno(LOG_WARNING, NULL, "mkdir %s", dir);
	}
}

/* unix_path - the path of a unix: or local: socket, or NULL */
static const char *
unix_path(const char *sock)
{
	if (strncmp(sock, "unix:", 5) == 0)
		return sock + 5;
	if (strncmp(sock, "local:", 6) == 0)
		return sock + 6;
	return NULL;
}

/* open_socket - register with libmilter and open the listening socket */
static int
open_socket(const fm_config_t *cfg, int have_user, uid_t uid, gid_t gid)
{
	const char *path = unix_path(cfg->socket);
	mode_t old_mask;
	int opened;

	if (path != NULL)
		ensure_dir(path, have_user ? uid : getuid(),
			   have_user ? gid : getgid(), 0755);
	if (smfi_setconn(cfg->socket) != MI_SUCCESS ||
	    smfi_register(*fm_mlfi_desc()) != MI_SUCCESS) {
		fm_log(LOG_ERR, NULL, "cannot register with libmilter");
		return -1;
	}
	/*
	 * The socket is made with its mode (the umask bind() applies), and
	 * handed to UserID with lchown: its directory belongs to UserID, and
	 * chown or chmod by path would follow a symbolic link put there.
	 */
	old_mask = umask(~(mode_t)cfg->socket_mode & 0777);
	opened = smfi_opensocket(1) == MI_SUCCESS;
	umask(old_mask);
	if (!opened) {
		fm_log(LOG_ERR, NULL, "cannot open the socket %s (in use, or "
		       "its directory missing or not writable)", cfg->socket);
		return -1;
	}
	if (path != NULL && have_user && lchown(path, uid, gid) < 0)
		fm_log_errno(LOG_WARNING, NULL, "chown %s", path);
	return 0;
}

/* detach - become a daemon */
static int
detach(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0 || chdir("/") < 0)
		return -1;
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return 0;
}

/*
 * write_pid - the pid file, owned by the user we become; 0 or -1. It is
 * written as root into a directory UserID may write: a symbolic link or
 * a second hard link planted there is refused, not followed.
 */
static int
write_pid(const char *path, int have_user, uid_t uid, gid_t gid)
{
	struct stat st;
	int fd, ok;

	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
		  O_CLOEXEC, 0644);
	if (fd < 0) {
		fm_log_errno(LOG_WARNING, NULL, "cannot write %s (a symbolic "
			     "link is refused)", path);
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
		fm_log(LOG_WARNING, NULL, "cannot write %s: not a plain file "
		       "with one link", path);
		close(fd);
		return -1;
	}
	ok = ftruncate(fd, 0) == 0 && dprintf(fd, "%ld\n", (long)getpid()) > 0;
	if (ok && have_user && fchown(fd, uid, gid) < 0)
		fm_log_errno(LOG_WARNING, NULL, "chown %s", path);
	if (close(fd) != 0 || !ok) {
		fm_log_errno(LOG_WARNING, NULL, "cannot write %s", path);
		return -1;
	}
	return 0;
}

/* drop_privileges - become UserID for good */
static int
drop_privileges(const char *name, uid_t uid, gid_t gid)
{
	if (initgroups(name, gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
		fm_log_errno(LOG_ERR, NULL, "cannot become %s", name);
		return -1;
	}
	if (uid != 0 && setuid(0) == 0) {
		fm_log(LOG_ERR, NULL, "privileges could be regained: refusing");
		return -1;
	}
	return 0;
}

/* milter_thread - run libmilter until it stops */
static void *
milter_thread(void *arg)
{
	int *rc = arg;

	*rc = smfi_main();
	__atomic_store_n(&milter_done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* retention - Retention: prune once a day, the first time a minute in */
static void
retention(time_t *next)
{
	fm_config_t *cfg;
	time_t now = time(NULL);
	long long n;
	char err[512];

	if (now < *next)
		return;
	*next = now + 86400;
	cfg = current_config();
	if (cfg->retention > 0) {
		char keep[24];

		fm_rules_duration(cfg->retention, keep, sizeof(keep));
		n = fm_store_prune(store_current, now - (time_t)cfg->retention, now,
				   err, sizeof(err));
		if (n < 0)
			fm_log(LOG_ERR, NULL, "prune (Retention %s): %s", keep,
			       err);
		else
			fm_log(LOG_INFO, NULL, "prune (Retention %s): %lld rows "
			       "removed", keep, n);
	}
	fm_config_unref(cfg);
}

/* serve - run the milter; the main thread waits for SIGHUP */
static int
serve(const char *path)
{
	struct timespec tick = {1, 0};
	time_t next_prune = time(NULL) + 60;
	pthread_t tid;
	sigset_t hup;
	int rc = MI_FAILURE;

	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	if (pthread_create(&tid, NULL, milter_thread, &rc) != 0) {
		fm_log(LOG_ERR, NULL, "cannot start the milter thread");
		return -1;
	}
	while (!__atomic_load_n(&milter_done, __ATOMIC_SEQ_CST)) {
		if (sigtimedwait(&hup, NULL, &tick) == SIGHUP &&
		    reload(path))
			next_prune = time(NULL) + 60;
		retention(&next_prune);
		fm_mlfi_tick(time(NULL));
	}
	pthread_join(tid, NULL);
	return rc == MI_SUCCESS ? 0 : -1;
}

/* block_signals - every thread started after this inherits the mask */
static void
block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* run - everything after the configuration is known to be good */
static int
run(const char *path, int foreground)
{
	fm_config_t *cfg = fm_config_ref(cfg_current);	/* outlives reloads */
	uid_t uid = 0;
	gid_t gid = 0;
	char *user = NULL, err[1024];
	fm_store_t *store = NULL;
	unsigned long keys_decoded, keys_reused, keys_failed, commits, records;
	fm_pipeline_t *pipeline = NULL;
	int have_user = cfg->user_id != NULL, status = EX_OSERR, pid_written = 0;

	if (have_user && lookup_user(cfg->user_id, &uid, &gid, &user) < 0) {
		status = EX_CONFIG;
		goto out;
	}
	if (geteuid() == 0 && (!have_user || uid == 0)) {
		fprintf(stderr, "feedback-milter: %s: UserID: refusing to run as "
			"root; set UserID to an unprivileged user\n", path);
		status = EX_CONFIG;
		goto out;
	}
	if (open_socket(cfg, have_user, uid, gid) < 0)
		goto out;
	if (!foreground && detach() < 0) {
		fm_log_errno(LOG_ERR, NULL, "cannot detach");
		goto out;
	}
	if (cfg->pid_file != NULL)
		pid_written = write_pid(cfg->pid_file, have_user, uid, gid) == 0;
	ensure_dir(cfg->database, have_user ? uid : getuid(),
		   have_user ? gid : getgid(), 0750);
	if (have_user && geteuid() == 0 && drop_privileges(user, uid, gid) < 0)
		goto out;
	block_signals();
	umask(027);	/* the store holds recipient addresses */
	if ((store = fm_store_open(cfg->database, 0, cfg->busy_timeout_ms, err,
				   sizeof(err))) == NULL) {
		fm_log(LOG_ERR, NULL, "%s: Database: %s", path, err);
		status = EX_CONFIG;
		goto out;
	}
	if ((pipeline = fm_pipeline_new(cfg, store, err, sizeof(err))) == NULL) {
		fm_log(LOG_ERR, NULL, "%s: %s", path, err);
		status = EX_CONFIG;
		goto out;
	}
	store_current = store;
	fm_store_set_rules(store, &cfg->rules);
	fm_store_set_cache(store, cfg->db_cache_kib);
	fm_mlfi_init(store, pipeline, current_config);
	fm_log(LOG_NOTICE, NULL, "%s starting: socket %s, %zu sender domains, "
	       "%d keys (signing key %d), database %s", PACKAGE_STRING,
	       cfg->socket, cfg->ndomains, fm_keyring_count(cfg->keys),
	       fm_keyring_signing_id(cfg->keys), cfg->database);
	fm_config_advise(cfg, advice_log, NULL);
	status = serve(path) == 0 ? EX_OK : EX_SOFTWARE;
	if (fm_mlfi_shutdown(FM_SHUTDOWN_WAIT) < 0) {
		/* a callback still uses them: the exit releases everything */
		fm_log(LOG_WARNING, NULL, "callbacks still busy after %d s: "
		       "exiting without closing the store", FM_SHUTDOWN_WAIT);
		pipeline = NULL;
		store = NULL;
	}
	if (store != NULL) {
		fm_store_stats(store, &commits, &records);
		fm_log(LOG_INFO, NULL, "store: %lu records in %lu commits",
		       records, commits);
	}
	fm_keycache_stats(&keys_decoded, &keys_reused, &keys_failed);
	fm_log(LOG_INFO, NULL, "DKIM keys: %lu decoded, %lu reused, "
	       "%lu not decodable", keys_decoded, keys_reused, keys_failed);
	fm_log(LOG_NOTICE, NULL, "stopped");
out:
	fm_pipeline_free(pipeline);
	fm_store_close(store);
	/* after the privilege drop this works when the directory is UserID's */
	if (cfg->pid_file != NULL && pid_written)
		unlink(cfg->pid_file);
	free(user);
	fm_config_unref(cfg);
	return status;
}

int
main(int argc, char **argv)
{
	const char *path = FM_DEFAULT_CONFIG;
	int ch, foreground = 0, check = 0, status;
	char err[1024], abspath[PATH_MAX];

	while ((ch = getopt(argc, argv, "c:fnVh")) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 'f': foreground = 1; break;
		case 'n': check = 1; break;
		case 'V': printf("%s\n", PACKAGE_STRING); return EX_OK;
		case 'h': usage(EX_OK); break;
		default: usage(EX_USAGE);
		}
	}
	if (optind != argc)
		usage(EX_USAGE);
	/* reloads happen after chdir("/"): keep an absolute path */
	if (path[0] != '/' && realpath(path, abspath) != NULL)
		path = abspath;
	if ((cfg_current = load(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "feedback-milter: %s\n", err);
		return EX_CONFIG;
	}
	if (check) {
		fm_config_advise(cfg_current, advice_print, (void *)path);
		printf("%s: OK: %zu sender domains, %d keys (signing key %d)\n",
		       path, cfg_current->ndomains,
		       fm_keyring_count(cfg_current->keys),
		       fm_keyring_signing_id(cfg_current->keys));
		fm_config_unref(cfg_current);
		return EX_OK;
	}
	fm_log_open("feedback-milter", cfg_current->syslog_facility,
		    (cfg_current->syslog ? FM_LOG_SYSLOG : 0) |
		    (foreground ? FM_LOG_STDERR : 0), cfg_current->log_level);
	status = run(path, foreground);
	fm_config_unref(cfg_current);
	fm_log_close();
	return status;
}
