package io.machxp.conform.kernel;

import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayList;
import java.util.List;

/**
 * A session the kit's pager gave a session token (spec 4.7): both sides' messages numbered on it,
 * whichever stream they travel, so that the pager can take a resume and see what the kernel sends
 * again. The kernel's messages count from 1 after its hello (keepalives included); the pager's
 * from 1 after its welcome (welcomes not counted). Thread-safe.
 */
public final class ResumableSession {
    private final int kernelId;
    private final long token;
    private final List<KernelToPager> fromKernel = new ArrayList<>();
    private final List<PagerToKernel> toKernel = new ArrayList<>();
    /** The stream the session is on now. */
    private KernelLink link;
    /** The last resume attempt taken. */
    private long lastAttempt;
    /** The pager refused a resume of it: it takes none any more (as a pager that knows no such session). */
    private boolean forgotten;

    ResumableSession(int kernelId, long token, KernelLink link) {
        this.kernelId = kernelId;
        this.token = token;
        this.link = link;
    }

    public int kernelId() {
        return kernelId;
    }

    public long token() {
        return token;
    }

    synchronized void fromKernel(KernelToPager m) {
        fromKernel.add(m);
    }

    synchronized void toKernel(PagerToKernel m) {
        toKernel.add(m);
    }

    /** Kernel messages of the session the pager received. */
    public synchronized long received() {
        return fromKernel.size();
    }

    /** Pager messages of the session sent. */
    public synchronized long sent() {
        return toKernel.size();
    }

    /** The kernel's message number {@code n} (from 1). */
    public synchronized KernelToPager kernelMessage(long n) {
        return fromKernel.get((int) (n - 1));
    }

    /** The number of the first kernel message of the session equal to {@code m}, or 0. */
    public synchronized long numberOf(KernelToPager m) {
        int i = fromKernel.indexOf(m);
        return i < 0 ? 0 : i + 1;
    }

    /** The kernel messages the pager forgot at the last resume (see {@link #keepFirst}), in order. */
    private List<KernelToPager> lost = List.of();

    /** The pager claims it received only the first {@code count} kernel messages: it forgets the others. */
    synchronized void keepFirst(long count) {
        List<KernelToPager> tail = fromKernel.subList((int) Math.min(count, fromKernel.size()), fromKernel.size());
        lost = List.copyOf(tail);
        tail.clear();
    }

    /** What the pager forgot at the last resume taken: the kernel is to send these again first. */
    public synchronized List<KernelToPager> lostOnResume() {
        return lost;
    }

    /** The pager's messages after the kernel's {@code received}, to send again on a resume. */
    synchronized List<PagerToKernel> sentAfter(long received) {
        return List.copyOf(toKernel.subList((int) Math.min(received, toKernel.size()), toKernel.size()));
    }

    synchronized KernelLink link() {
        return link;
    }

    synchronized void moveTo(KernelLink to, long attempt) {
        link = to;
        lastAttempt = attempt;
    }

    synchronized long lastAttempt() {
        return lastAttempt;
    }

    synchronized void forget() {
        forgotten = true;
    }

    synchronized boolean forgotten() {
        return forgotten;
    }
}
