package io.machxp.kernel.ipc;

/**
 * Priority donation through synchronous RPC: what the IPC core asks of the kernel's scheduler.
 * A client blocked in mach_msg send+receive on its reply port (the reply right made send-once
 * from the port it then receives on) donates its effective priority, carried in the request, to
 * the thread that receives the request - on this kernel or another - until that thread uses or
 * loses the reply right (sends the reply, moves the right on, destroys it, or the reply port
 * dies). The scheduler keeps a thread's donations and runs it at the maximum of its own priority
 * and them. Called on the core thread. {@link #NONE} (--no-pi) donates nothing.
 */
public interface IpcSched {
    /** The effective priority of thread {@code tid} now; 0 if none. */
    int priority(int tid);

    /** Thread {@code tid} receives a donation of {@code priority}, known by {@code key} until it ends. */
    void donate(int tid, Object key, int priority);

    /** The donation {@code key} to thread {@code tid} ends. */
    void endDonation(int tid, Object key);

    IpcSched NONE = new IpcSched() {
        @Override
        public int priority(int tid) {
            return 0;
        }

        @Override
        public void donate(int tid, Object key, int priority) {}

        @Override
        public void endDonation(int tid, Object key) {}
    };
}
