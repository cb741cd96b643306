package io.machxp.kernel.task;

/** A thread of a task. Its TID is its name everywhere, in the futex word too. */
public final class MachThread {
    public final int tid;
    public final MachTask task;
    /** Core thread only: the call the thread is blocked in, or null. */
    public String blockedIn;
    /** Core thread only: the wait the thread is in, so that it can be abandoned. */
    public io.machxp.kernel.futex.FutexWaiter waiter;

    public MachThread(int tid, MachTask task) {
        this.tid = tid;
        this.task = task;
    }

    @Override
    public String toString() {
        return "thread " + tid + " of task " + task.id;
    }
}
