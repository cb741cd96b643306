package io.machxp.kernel.core;

/**
 * What a kernel's clean end waits for at one pager before it ends that stream. Part of the kernel
 * core, which is sans-IO: the core sends the keepalive, the runtime (or the simulator) waits.
 *
 * <h2>Overview</h2>
 * A kernel that shuts down gives back its futexes and pages and terminates its objects on each
 * session still open; then it sends one more {@code kernel_keepalive} there (xp-spec 2.6). Its
 * answer, {@code pager_keepalive} of {@code keepalive} or a later sequence, says that everything
 * sent before it is in the pager's store (xp-spec 4.2): only then does the runtime end the stream,
 * so a pager that crashes after the kernel has gone loses none of its writes. An answer that does
 * not come within the runtime's bound leaves up to {@code returns} pages given back with data possibly not on the
 * pager's disk (those sent since the last keepalive the pager answered), which the runtime says
 * in its log before it ends the stream anyway.
 * <pre>
 *  shutdown: futexes, pages, terminates -> kernel_keepalive(keepalive)   (the core)
 *  pager_keepalive(s >= keepalive)      -> the stream ends               (the runtime)
 *  no answer in the bound, stream broke -> a warning naming the pager and returns; ends anyway
 * </pre>
 *
 * @param pager which of the kernel's pagers (0: the primary)
 * @param keepalive the sequence of the keepalive whose answer the end waits for
 * @param returns returns with data (dirty or precious) sent to the pager that no answered keepalive confirmed yet
 */
public record EndBarrier(int pager, long keepalive, long returns) {
    /** Whether {@code answered}, a pager_keepalive's sequence, answers this barrier (or a later keepalive). */
    public boolean answeredBy(long answered) {
        return answered >= keepalive;
    }
}
