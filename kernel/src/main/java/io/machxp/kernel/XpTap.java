package io.machxp.kernel;

import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;

/**
 * Lets a tool see a kernel's XP messages as they go onto and come off its pager streams (machxp
 * demo --trace records them in real time). Off by default: one volatile read per message. The
 * listener is called on the kernel's core thread, for keepalives too; it must not block. A message
 * is heard when it is handed to the stream's gRPC call: one the kernel keeps for a stalled stream's
 * resume, or that waits for a stream that takes no more, is heard when it goes.
 */
public final class XpTap {
    /** Hears the messages of every pager stream; {@code pager} is the pager's index in the kernel's configuration. */
    public interface Listener {
        void sent(int pager, KernelToPager message);

        void received(int pager, PagerToKernel message);
    }

    private volatile Listener listener;

    /** Sets the one listener (null: none). */
    public void listen(Listener value) {
        listener = value;
    }

    void sent(int pager, KernelToPager message) {
        Listener l = listener;
        if (l != null) {
            l.sent(pager, message);
        }
    }

    void received(int pager, PagerToKernel message) {
        Listener l = listener;
        if (l != null) {
            l.received(pager, message);
        }
    }
}
