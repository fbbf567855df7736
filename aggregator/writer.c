/*
 * writer.c — see writer.h.
 *
 * The state, the group pointer, the extra write and the stop flag are
 * shared under one mutex; the group's contents are the commit thread's
 * while QUEUED and the submitter's otherwise.  One extra write is on the
 * thread at a time (xbusy), so writer_apply callers queue on the mutex.
 */
#include "writer.h"

#include <pthread.h>
#include <stdlib.h>

#include "log.h"
#include "ztime.h"

struct writer {
	store_t *store;
	pthread_t thr;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	enum writer_state state;	/* under mu */
	struct writer_group *g;		/* under mu; the thread's if QUEUED */
	bool stop;			/* under mu */
	/* other writes riding on the commit thread (writer_apply), under
	 * mu: one at a time */
	const struct store_extra *xq;
	bool xbusy, xdone;
	zerr_t xe;
	zdiag_t xd;
};

/* Commit g with x (either may be NULL, not both); x's result in *xe. */
static void
commit_one(struct writer *w, struct writer_group *g,
    const struct store_extra *x, zerr_t *xe, zdiag_t *xd)
{
	if (g == NULL) {
		*xe = store_commit_with(w->store, NULL, 0, NULL, NULL, 0, x,
		    xd);
		return;
	}
	g->t0 = ztime_mono_us();
	if (g->flush) {
		g->e = store_agents_flush(w->store, &g->d);
	} else {
		g->e = store_commit_with(w->store, g->min, g->n, g->res,
		    g->seen, g->nseen, x, &g->d);
		*xe = g->e;
		if (g->e != ZE_OK && x != NULL) {
			/* never let the other writes cost the measurements
			 * their commit */
			*xd = g->d;
			g->e = store_commit(w->store, g->min, g->n, g->res,
			    g->seen, g->nseen, &g->d);
		}
	}
	g->us = ztime_mono_us() - g->t0;
}

static void *
writer_main(void *arg)
{
	struct writer *w = arg;

	pthread_setname_np(pthread_self(), "zond-commit");

	for (;;) {
		const struct store_extra *x;
		struct writer_group *g;
		zerr_t xe = ZE_OK;
		zdiag_t xd = {.text = ""};

		pthread_mutex_lock(&w->mu);
		while (w->state != WRITER_QUEUED && w->xq == NULL && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		g = w->state == WRITER_QUEUED ? w->g : NULL;
		x = w->xq;
		pthread_mutex_unlock(&w->mu);
		if (g == NULL && x == NULL)
			return NULL;
		/* a flush takes no extra write: x is committed on its own
		 * right after it (the next turn of this loop) */
		if (g != NULL && g->flush)
			x = NULL;

		commit_one(w, g, x, &xe, &xd);

		pthread_mutex_lock(&w->mu);
		if (x != NULL) {
			w->xe = xe;
			w->xd = xd;
			w->xdone = true;
			w->xq = NULL;
		}
		if (g != NULL) {
			ZASSERT(w->state == WRITER_QUEUED && w->g == g);
			w->state = WRITER_DONE;
			/* under mu: once writer_wait returns, the submitter
			 * may free what done uses */
			if (g->done != NULL)
				g->done(g->done_arg);
		}
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
	}
}

void
writer_submit(writer_t *w, struct writer_group *g)
{
	pthread_mutex_lock(&w->mu);
	ZASSERT(w->state == WRITER_IDLE && !w->stop);
	w->g = g;
	w->state = WRITER_QUEUED;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

enum writer_state
writer_state(writer_t *w)
{
	enum writer_state st;

	pthread_mutex_lock(&w->mu);
	st = w->state;
	pthread_mutex_unlock(&w->mu);
	return st;
}

struct writer_group *
writer_reap(writer_t *w)
{
	struct writer_group *g = NULL;

	pthread_mutex_lock(&w->mu);
	if (w->state == WRITER_DONE) {
		g = w->g;
		w->g = NULL;
		w->state = WRITER_IDLE;
	}
	pthread_mutex_unlock(&w->mu);
	return g;
}

void
writer_wait(writer_t *w)
{
	pthread_mutex_lock(&w->mu);
	while (w->state == WRITER_QUEUED)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

zerr_t
writer_apply(writer_t *w, const struct store_extra *x, zdiag_t *d)
{
	zerr_t e;

	pthread_mutex_lock(&w->mu);
	while (w->xbusy)
		pthread_cond_wait(&w->cv, &w->mu);
	ZASSERT(!w->stop);
	w->xbusy = true;
	w->xdone = false;
	w->xq = x;
	pthread_cond_broadcast(&w->cv);
	while (!w->xdone)
		pthread_cond_wait(&w->cv, &w->mu);
	e = w->xe;
	if (e != ZE_OK && d != NULL)
		*d = w->xd;
	w->xbusy = false;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return e;
}

zerr_t
writer_new(store_t *s, writer_t **out, zdiag_t *d)
{
	struct writer *w;

	*out = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return zdiag_set(d, ZE_NOMEM, "out of memory");
	w->store = s;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	store_agents_defer(s, true);
	if (pthread_create(&w->thr, NULL, writer_main, w) != 0) {
		store_agents_defer(s, false);
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
		free(w);
		return zdiag_set(d, ZE_IO, "cannot start the commit thread");
	}
	*out = w;
	return ZE_OK;
}

void
writer_free(writer_t **wp)
{
	struct writer *w;
	zdiag_t d = {.text = ""};

	if (wp == NULL || (w = *wp) == NULL)
		return;
	/* a queued group is committed first */
	pthread_mutex_lock(&w->mu);
	ZASSERT(!w->xbusy);
	w->stop = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thr, NULL);
	/* agent records that lag: written now */
	if (store_agents_flush(w->store, &d) != ZE_OK)
		log_warnx("storage: agent records: %s", d.text);
	store_agents_defer(w->store, false);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
	*wp = NULL;
}
