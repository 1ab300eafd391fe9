/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The floor under the raw chain's transport share: what moving one raw
 * 720p I420 frame (1382400 bytes) over loopback TCP costs on this machine,
 * at the chain's cadence (30 fps: the caches and the scheduler are cold
 * again at every frame), in three layers, one process, monotonic clock:
 *
 *   tcp      one TCP connection, a sender thread and a receiver thread: the
 *            frame from the first send() to the receiver having all of it
 *            (one hop with nothing above the kernel)
 *   server   a client of a few system calls POSTs the frame (head, one
 *            chunk, last chunk in one sendmsg()) through the trickle server
 *            to a client that GETs it and reads to the last chunk: from the
 *            first byte sent to the last received (two hops, the server's
 *            own cost included)
 *   library  the same through GstTricklePublisher and GstTrickleSubscriber
 *            (what tricklesink and tricklesrc use), the subscriber
 *            following the channel with its preconnects
 *
 *   floor [frames, default 300] [bytes, default 1382400] [fps, default 30]
 */
#include <gst/gst.h>
#include <gst/trickle/trickle.h>
#include <gio/gio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_FRAMES 4096
#define SKIP 10

static guint frames = 300, frame_bytes = 1382400, fps = 30;
static gint64 t_start[MAX_FRAMES], t_end[MAX_FRAMES];

static int
cmp (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return x < y ? -1 : x > y;
}

static void
report (const gchar * name)
{
  gint64 *d = g_new (gint64, frames);
  guint i, n = 0;

  for (i = SKIP; i < frames; i++)
    if (t_start[i] && t_end[i])
      d[n++] = t_end[i] - t_start[i];
  if (n == 0) {
    printf ("  %-9s no frame arrived\n", name);
  } else {
    qsort (d, n, sizeof (gint64), cmp);
    printf ("  %-9s p50 %6.3f ms  p90 %6.3f ms  p99 %6.3f ms  (%u frames)\n",
        name, d[n / 2] / 1000.0, d[n * 9 / 10] / 1000.0,
        d[n * 99 / 100] / 1000.0, n);
    printf ("ROW|%s|%.3f|%.3f|%.3f\n", name, d[n / 2] / 1000.0,
        d[n * 9 / 10] / 1000.0, d[n * 99 / 100] / 1000.0);
  }
  g_free (d);
  memset (t_start, 0, sizeof (t_start));
  memset (t_end, 0, sizeof (t_end));
}

/* waits for the next frame time */
static void
pace (gint64 * t)
{
  gint64 now;

  *t += G_USEC_PER_SEC / fps;
  now = g_get_monotonic_time ();
  if (*t > now)
    g_usleep (*t - now);
}

static int
connect_to (guint16 port)
{
  struct sockaddr_in sa = { 0 };
  int fd = socket (AF_INET, SOCK_STREAM, 0), one = 1;

  sa.sin_family = AF_INET;
  sa.sin_port = htons (port);
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (fd < 0 || connect (fd, (struct sockaddr *) &sa, sizeof (sa)) != 0) {
    perror ("connect");
    exit (1);
  }
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof (one));
  return fd;
}

/* sends all of @iov */
static void
send_all (int fd, struct iovec *iov, int n)
{
  struct msghdr m = { 0 };

  m.msg_iov = iov;
  m.msg_iovlen = n;
  while (m.msg_iovlen > 0) {
    ssize_t w = sendmsg (fd, &m, MSG_NOSIGNAL);

    if (w <= 0) {
      perror ("sendmsg");
      exit (1);
    }
    while (w > 0) {
      if ((size_t) w >= m.msg_iov[0].iov_len) {
        w -= m.msg_iov[0].iov_len;
        m.msg_iov++;
        m.msg_iovlen--;
      } else {
        m.msg_iov[0].iov_base = (guint8 *) m.msg_iov[0].iov_base + w;
        m.msg_iov[0].iov_len -= w;
        w = 0;
      }
    }
  }
}

/* --- tcp --- */

static gpointer
tcp_receiver (gpointer data)
{
  int fd = accept (GPOINTER_TO_INT (data), NULL, NULL);
  guint8 *buf = g_malloc (frame_bytes);
  guint i;

  for (i = 0; i < frames; i++) {
    gsize got = 0;
    guint8 ack = 1;

    while (got < frame_bytes) {
      ssize_t r = recv (fd, buf + got, frame_bytes - got, 0);

      if (r <= 0)
        goto done;
      got += r;
    }
    t_end[i] = g_get_monotonic_time ();
    if (send (fd, &ack, 1, MSG_NOSIGNAL) != 1)
      break;
  }
done:
  g_free (buf);
  close (fd);
  return NULL;
}

static void
run_tcp (void)
{
  struct sockaddr_in sa = { 0 };
  socklen_t len = sizeof (sa);
  int lfd = socket (AF_INET, SOCK_STREAM, 0), fd;
  guint8 *frame = g_malloc0 (frame_bytes), ack;
  GThread *thread;
  gint64 t = g_get_monotonic_time ();
  guint i;

  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (bind (lfd, (struct sockaddr *) &sa, sizeof (sa)) != 0
      || listen (lfd, 1) != 0
      || getsockname (lfd, (struct sockaddr *) &sa, &len) != 0) {
    perror ("listen");
    exit (1);
  }
  thread = g_thread_new ("tcp", tcp_receiver, GINT_TO_POINTER (lfd));
  fd = connect_to (ntohs (sa.sin_port));
  for (i = 0; i < frames; i++) {
    struct iovec iov = { frame, frame_bytes };

    pace (&t);
    t_start[i] = g_get_monotonic_time ();
    frame[0] = i;
    send_all (fd, &iov, 1);
    if (recv (fd, &ack, 1, 0) != 1)
      break;
  }
  close (fd);
  g_thread_join (thread);
  close (lfd);
  g_free (frame);
  report ("tcp");
}

/* --- server --- */

static guint16 server_port;

/* GETs each segment on one kept-alive connection, reading to its last
 * chunk (the server answers with one chunk per write) */
static gpointer
raw_subscriber (gpointer data)
{
  int fd = connect_to (server_port);
  gsize cap = frame_bytes + 64 * 1024;
  gchar *buf = g_malloc (cap);
  guint i;

  for (i = 0; i < frames; i++) {
    gchar req[128];
    int l = g_snprintf (req, sizeof (req),
        "GET /floor/%u HTTP/1.1\r\nHost: floor\r\n\r\n", i);
    gsize got = 0;

    if (send (fd, req, l, MSG_NOSIGNAL) != l)
      break;
    for (;;) {
      ssize_t r = recv (fd, buf + got, cap - got, 0);

      if (r <= 0)
        goto done;
      got += r;
      if (got >= 5 && memcmp (buf + got - 5, "0\r\n\r\n", 5) == 0)
        break;
      if (got == cap) {
        /* keep the tail only */
        memmove (buf, buf + got - 8, 8);
        got = 8;
      }
    }
    t_end[i] = g_get_monotonic_time ();
  }
done:
  g_free (buf);
  close (fd);
  return NULL;
}

static void
run_server (void)
{
  guint8 *frame = g_malloc0 (frame_bytes);
  int fd = connect_to (server_port);
  GThread *thread = NULL;
  gint64 t = g_get_monotonic_time ();
  guint i;

  for (i = 0; i < frames; i++) {
    gchar head[256], answer[1024];
    int hl = g_snprintf (head, sizeof (head),
        "POST /floor/%u HTTP/1.1\r\nHost: floor\r\n"
        "Content-Type: video/x-raw\r\nTransfer-Encoding: chunked\r\n\r\n"
        "%x\r\n", i, frame_bytes);
    struct iovec iov[3] = { {head, hl}, {frame, frame_bytes},
    {(gchar *) "\r\n0\r\n\r\n", 7}
    };

    pace (&t);
    t_start[i] = g_get_monotonic_time ();
    frame[0] = i;
    send_all (fd, iov, 3);
    /* the answer comes when the segment is stored */
    if (recv (fd, answer, sizeof (answer), 0) <= 0
        || !g_str_has_prefix (answer, "HTTP/1.1 200")) {
      g_printerr ("POST %u failed\n", i);
      exit (1);
    }
    if (i == 0)                 /* the channel exists now */
      thread = g_thread_new ("sub", raw_subscriber, NULL);
  }
  g_thread_join (thread);
  close (fd);
  g_free (frame);
  report ("server");
}

/* --- library --- */

static gpointer
library_subscriber (gpointer data)
{
  GstTrickleSubscriber *sub = data;

  for (;;) {
    GstTrickleSubscriberEvent ev;
    GError *err = NULL;

    if (!gst_trickle_subscriber_next_event (sub, &ev, &err)) {
      g_clear_error (&err);
      return NULL;
    }
    if (ev.type == GST_TRICKLE_SUBSCRIBER_SEGMENT_END && ev.seq >= 0
        && ev.seq < MAX_FRAMES)
      t_end[ev.seq] = g_get_monotonic_time ();
    if (ev.type == GST_TRICKLE_SUBSCRIBER_EOS) {
      gst_trickle_subscriber_event_clear (&ev);
      return NULL;
    }
    gst_trickle_subscriber_event_clear (&ev);
  }
}

static void
run_library (void)
{
  gchar *url = g_strdup_printf ("http://127.0.0.1:%u/lib", server_port);
  GstTricklePublisher *pub = gst_trickle_publisher_new (url, "video/x-raw");
  GstTrickleSubscriber *sub = gst_trickle_subscriber_new (url);
  guint8 *frame = g_malloc0 (frame_bytes);
  GError *err = NULL;
  GThread *thread;
  gint64 t;
  guint i;

  g_object_set (pub, "create-channel", TRUE, NULL);
  g_object_set (sub, "start-seq", (gint64) 0, NULL);
  if (!gst_trickle_publisher_start (pub, &err)
      || !gst_trickle_subscriber_start (sub, &err)) {
    g_printerr ("library: %s\n", err->message);
    exit (1);
  }
  thread = g_thread_new ("sub", library_subscriber, sub);
  t = g_get_monotonic_time ();
  for (i = 0; i < frames; i++) {
    gint64 seq;

    pace (&t);
    seq = gst_trickle_publisher_begin_segment (pub, &err);
    if (seq < 0 || seq >= MAX_FRAMES) {
      g_printerr ("begin: %s\n", err ? err->message : "seq");
      exit (1);
    }
    t_start[seq] = g_get_monotonic_time ();
    frame[0] = i;
    if (!gst_trickle_publisher_write (pub, frame, frame_bytes, &err)
        || !gst_trickle_publisher_end_segment (pub, &err)) {
      g_printerr ("write: %s\n", err->message);
      exit (1);
    }
  }
  g_usleep (200000);
  gst_trickle_publisher_stop (pub, TRUE, NULL);
  g_thread_join (thread);
  g_object_unref (sub);
  g_object_unref (pub);
  g_free (frame);
  g_free (url);
  report ("library");
}

int
main (int argc, char **argv)
{
  GstTrickleChannelStore *store;
  GstTrickleHttpServer *server;
  GError *err = NULL;

  gst_init (&argc, &argv);
  if (argc > 1)
    frames = CLAMP (atoi (argv[1]), SKIP + 1, MAX_FRAMES);
  if (argc > 2)
    frame_bytes = MAX (atoi (argv[2]), 1);
  if (argc > 3)
    fps = CLAMP (atoi (argv[3]), 1, 1000);

  store = gst_trickle_channel_store_new ();
  server = gst_trickle_http_server_new (store);
  g_object_set (server, "address", "127.0.0.1", "port", 0, NULL);
  if (!gst_trickle_http_server_start (server, &err)) {
    g_printerr ("server: %s\n", err->message);
    return 1;
  }
  server_port = gst_trickle_http_server_get_bound_port (server);

  printf ("transport floor: %u frames of %u bytes at %u fps, loopback, "
      "first %u skipped; first byte sent -> last byte received\n", frames,
      frame_bytes, fps, SKIP);
  run_tcp ();
  run_server ();
  run_library ();

  gst_trickle_http_server_stop (server);
  g_object_unref (server);
  g_object_unref (store);
  return 0;
}
