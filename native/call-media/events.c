/* Events from the media thread to JavaScript. */
#include <stdio.h>
#include <stdlib.h>
#include "parts.h"

void media_post(engine *e, engine_event *ev) {
  if (e->notify) e->notify(e->ctx, ev);
  else free(ev);
}

engine_event *media_event(event_kind kind) {
  engine_event *ev = calloc(1, sizeof *ev);
  if (ev) ev->kind = kind;
  return ev;
}

void media_report(engine *e, device *d, event_kind kind, const char *message) {
  engine_event *ev = media_event(kind);
  if (!ev) return;
  snprintf(ev->device, sizeof ev->device, "%s", d->name);
  snprintf(ev->message, sizeof ev->message, "%s", message ? message : "");
  media_post(e, ev);
}
