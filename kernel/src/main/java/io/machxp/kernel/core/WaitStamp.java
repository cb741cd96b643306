package io.machxp.kernel.core;

import io.machxp.kernel.task.MachThread;
import io.machxp.proto.xp.MemoryObjectFutexProbe;

/**
 * A futex wait as a deadlock probe names it: thread {@code tid}'s wait number {@code waitNumber}, begun
 * at {@code beganMicros} by its kernel's wall clock. Of the waits of a cycle, the one that began
 * last is the one that closed it, and the only one that fails with EDEADLK.
 */
record WaitStamp(int tid, long waitNumber, long beganMicros) {
    static WaitStamp of(MachThread t) {
        return new WaitStamp(t.tid, t.waitNumber, t.waitBeganMicros);
    }

    /** The probe's youngest wait; the initiator's, begun at 0, from a sender that did not say. */
    static WaitStamp youngestOf(MemoryObjectFutexProbe p) {
        return p.getYoungest() == 0 ? new WaitStamp(p.getInitiator(), p.getWait(), 0)
                : new WaitStamp(p.getYoungest(), p.getYoungestWait(), p.getYoungestBeganMicros());
    }

    /** The later of the two waits (the later begin; equal begins, the larger TID). */
    WaitStamp younger(WaitStamp o) {
        int c = beganMicros != o.beganMicros ? Long.compare(beganMicros, o.beganMicros) : Integer.compare(tid, o.tid);
        return c >= 0 ? this : o;
    }

    MemoryObjectFutexProbe.Builder into(MemoryObjectFutexProbe.Builder b) {
        return b.setYoungest(tid).setYoungestWait(waitNumber).setYoungestBeganMicros(beganMicros);
    }
}
