/*
 * store_row - copy query results out of SQLite into one allocation
 *
 * Helpers for the store's lookups (store_send.c, store_event.c), which hand
 * out records that must outlive the statement they came from. A lookup
 * runs its child query twice inside one read transaction: store_measure()
 * counts the rows and the bytes of their text columns, the caller allocates
 * the pointer arrays and the text in one block, and store_copy_rows() fills
 * them. One free() releases the record.
 *
 *	bytes = 0;
 *	store_measure(q, 2, &rows, &bytes);
 *	ptrs = malloc(2 * rows * sizeof(char *) + bytes);
 *	p = (char *) (ptrs + 2 * rows);
 *	store_copy_rows(q, 2, rows, ptrs, &p);
 *
 * store_col_size() and store_col_copy() do the same for single columns.
 */
#include <stddef.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"
#include "store_int.h"

/* store_col_size - bytes a text column needs with its NUL; 0 for NULL */
size_t store_col_size(sqlite3_stmt *q, int col)
{
	if (sqlite3_column_text(q, col) == NULL)
		return 0;
	return (size_t) sqlite3_column_bytes(q, col) + 1;
}

/* store_col_copy - copy a text column to *pp and advance; NULL for NULL */
char *store_col_copy(sqlite3_stmt *q, int col, char **pp)
{
	const unsigned char *t = sqlite3_column_text(q, col);
	size_t n;
	char *s = *pp;

	if (t == NULL)
		return NULL;
	n = (size_t) sqlite3_column_bytes(q, col);
	memcpy(s, t, n);
	s[n] = 0;
	*pp = s + n + 1;
	return s;
}

/* store_measure - count the rows of q and the bytes of their columns */
int store_measure(sqlite3_stmt *q, int ncols, size_t *rows, size_t *bytes)
{
	int rc, c;

	*rows = 0;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		++*rows;
		for (c = 0; c < ncols; c++)
			*bytes += store_col_size(q, c);
	}
	sqlite3_reset(q);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/*
 * store_copy_rows - copy the rows of q again (the read transaction keeps
 * them unchanged): column c of row k goes to ptrs[c * rows + k].
 */
int store_copy_rows(sqlite3_stmt *q, int ncols, size_t rows, char **ptrs,
		    char **pp)
{
	size_t k = 0;
	int rc, c;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW && k < rows) {
		for (c = 0; c < ncols; c++)
			ptrs[(size_t) c * rows + k] = store_col_copy(q, c, pp);
		k++;
	}
	sqlite3_reset(q);
	if (rc == SQLITE_ROW || (rc == SQLITE_DONE && k != rows))
		return SQLITE_CORRUPT;	/* cannot happen inside a snapshot */
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}
