"""The session an ``Estimator`` trains, evaluates and predicts in: what
``tf.compat.v1.train.MonitoredSession`` does for it, with each step one plain ``Session.run``.

Its hooks are begun, the session is made by ``ChiefSessionCreator`` (which finalizes the graph,
restores the latest checkpoint of ``checkpoint_dir``, or ``checkpoint_path``, or initializes),
queue runners are started, and each hook is told the session exists. A step runs the caller's
fetches and those its hooks ask for as one list, ``[fetches, [hook fetches...]]``, with the hooks'
feeds merged into the caller's; then each hook sees its results and may ask to stop. Leaving
normally, or on the input's end (``OutOfRangeError``, ``StopIteration``, which it swallows as
``MonitoredSession`` does), ends the hooks (a ``CheckpointSaverHook`` saves there); leaving on
any other exception closes the session without them.

``MonitoredSession`` itself keys its fetches by the hook objects, a structure that
``tf.nest`` cannot flatten (its keys do not sort): a program that watches ``Session.run`` reads
these steps as ordinary ones.
"""

from __future__ import annotations


class HookedSession:
    """A session run with ``hooks`` (see the module's docstring)."""

    def __init__(
        self, hooks, scaffold, checkpoint_dir=None, checkpoint_path=None, config=None
    ) -> None:
        import tensorflow as tf

        v1 = tf.compat.v1
        self.hooks = list(hooks)
        self.graph = v1.get_default_graph()
        self.was_finalized = self.graph.finalized
        for hook in self.hooks:
            hook.begin()
        creator = v1.train.ChiefSessionCreator(
            scaffold=scaffold,
            checkpoint_dir=checkpoint_dir,
            checkpoint_filename_with_path=checkpoint_path,
            config=config,
        )
        self.session = creator.create_session()
        self.coordinator = v1.train.Coordinator(clean_stop_exception_types=[])
        self.threads = []
        if v1.get_collection(v1.GraphKeys.QUEUE_RUNNERS):
            self.threads = v1.train.start_queue_runners(sess=self.session, coord=self.coordinator)
        for hook in self.hooks:
            hook.after_create_session(self.session, self.coordinator)
        self.stop_requested = False

    def should_stop(self) -> bool:
        return self.stop_requested or self.coordinator.should_stop()

    def run(self, fetches, feed_dict=None) -> object:
        """``fetches`` run with the hooks' own; their values."""
        import tensorflow as tf

        v1 = tf.compat.v1
        if self.should_stop():
            raise RuntimeError("Run called even after should_stop requested.")
        context = v1.train.SessionRunContext(
            original_args=v1.train.SessionRunArgs(fetches, feed_dict), session=self.session
        )
        options = v1.RunOptions()
        asked, feeds = [], {}
        for hook in self.hooks:
            request = hook.before_run(context)
            if request is None:
                continue
            if request.fetches is not None:
                asked.append((hook, request.fetches))
            if request.feed_dict:
                clash(feeds, request.feed_dict, "Same tensor is fed by two hooks.")
                feeds.update(request.feed_dict)
            if request.options:
                merge_options(options, request.options)
        if feed_dict:
            clash(feed_dict, feeds, "Same tensor is fed by a SessionRunHook and user.")
            feeds.update(feed_dict)
        traced = options.ByteSize() > 0
        metadata = v1.RunMetadata()
        mine, theirs = self.session.run(
            [fetches, [f for _, f in asked]],
            feed_dict=feeds or None,
            options=options if traced else None,
            run_metadata=metadata if traced else None,
        )
        results = {id(hook): value for (hook, _), value in zip(asked, theirs)}
        for hook in self.hooks:
            values = v1.train.SessionRunValues(
                results=results.get(id(hook)), options=options, run_metadata=metadata
            )
            hook.after_run(context, values)
        self.stop_requested = self.stop_requested or context.stop_requested
        return mine

    def close(self, hooks_end: bool) -> None:
        try:
            if hooks_end:
                for hook in self.hooks:
                    hook.end(self.session)
        finally:
            self.coordinator.request_stop()
            try:
                self.coordinator.join(self.threads, stop_grace_period_secs=120)
            finally:
                self.session.close()
                if not self.was_finalized:
                    self.graph._unsafe_unfinalize()

    def __enter__(self) -> HookedSession:
        return self

    def __exit__(self, kind, error, traceback) -> bool:
        import tensorflow as tf

        ended = kind is None or issubclass(kind, tf.errors.OutOfRangeError | StopIteration)
        self.close(hooks_end=ended)
        return ended


def clash(first: dict, second: dict, message: str) -> None:
    both = set(first) & set(second)
    if both:
        raise RuntimeError(f"{message} Conflict(s): {list(both)}")


def merge_options(options, incoming) -> None:
    """``incoming`` into ``options``: the larger of each number, either of each flag, both
    tensor watch lists (as ``MonitoredSession`` merges its hooks' ``RunOptions``)."""
    options.trace_level = max(options.trace_level, incoming.trace_level)
    options.timeout_in_ms = max(options.timeout_in_ms, incoming.timeout_in_ms)
    options.inter_op_thread_pool = max(options.inter_op_thread_pool, incoming.inter_op_thread_pool)
    options.output_partition_graphs |= incoming.output_partition_graphs
    options.debug_options.debug_tensor_watch_opts.extend(
        incoming.debug_options.debug_tensor_watch_opts
    )
    options.debug_options.reset_disk_byte_usage |= incoming.debug_options.reset_disk_byte_usage
    options.report_tensor_allocations_upon_oom |= incoming.report_tensor_allocations_upon_oom
