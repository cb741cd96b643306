package io.machxp.conform;

import static io.machxp.conform.PagerProbe.OBJECT_ID;

/**
 * The opening of the kit's queue-order cases: kernel A holds a fresh futex (granted under
 * {@code token}), then B and C ask for it with their priorities, in that order, each synced so
 * that the pager has queued B before C arrives.
 */
record HeldAndQueued(FakeKernel a, FakeKernel b, FakeKernel c, long futex, long token) {
    static HeldAndQueued of(PagerProbe p, int bPriority, int cPriority) {
        FakeKernel a = p.kernel("a");
        FakeKernel b = p.kernel("b");
        FakeKernel c = p.kernel("c");
        long futex = p.freshPage();
        long token = p.lock(a, futex).getFencingToken();
        b.send(Messages.lockFutex(OBJECT_ID, futex, false, bPriority));
        b.sync();
        c.send(Messages.lockFutex(OBJECT_ID, futex, false, cPriority));
        c.sync();
        return new HeldAndQueued(a, b, c, futex, token);
    }

    /** A gives the futex back (its grant's token, no owner_died). */
    void aReleases() {
        a.send(Messages.released(OBJECT_ID, futex, token, false));
    }
}
