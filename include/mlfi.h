/*
 * mlfi - the libmilter callbacks
 *
 * Thin: each callback fetches the connection context, calls the pure
 * modules and maps the result to an SMFIS_* code. The daemon provides the
 * current configuration snapshot and the store.
 */
#ifndef FM_MLFI_H
#define FM_MLFI_H

#include <time.h>

#include <libmilter/mfapi.h>

#include "config.h"
#include "pipeline.h"
#include "store.h"

/* fm_mlfi_init - the callbacks' environment; get_config returns a reference */
void fm_mlfi_init(fm_store_t *store, fm_pipeline_t *pipeline,
		  fm_config_t *(*get_config)(void));

/* fm_mlfi_tick - called once a second: flushes rate-limited log summaries */
void fm_mlfi_tick(time_t now);

/*
 * fm_mlfi_shutdown - after smfi_main has returned and before the store and
 * the pipeline are freed: wait up to timeout_s seconds for the callbacks
 * under way to finish, then make every later callback defer its message
 * without touching them. 0, or -1 if callbacks were still busy (the store
 * and the pipeline must then be left to the process exit).
 */
int fm_mlfi_shutdown(unsigned timeout_s);

/* fm_mlfi_desc - the filter description for smfi_register */
struct smfiDesc *fm_mlfi_desc(void);

#endif
