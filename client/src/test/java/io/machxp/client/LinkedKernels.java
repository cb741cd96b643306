package io.machxp.client;

import io.machxp.kernel.Kernel;
import io.machxp.kernel.ipc.KernReturnException;
import java.net.InetSocketAddress;

/** Helpers of the tests of kernels whose IPC is linked: where a kernel's links listen, what a name is in a task. */
final class LinkedKernels {
    private LinkedKernels() {}

    /** Where {@code k}'s IPC links listen. */
    static InetSocketAddress ipcAddress(Kernel k) {
        String[] hostPort = k.ipcAddress().split(":");
        return new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1]));
    }

    /** mach_port_type of {@code name} in {@code t}, 0 while the name is not there. */
    static int typeOf(TaskClient t, int name) {
        try {
            return t.machPortType(name);
        } catch (KernReturnException e) {
            return 0;
        }
    }
}
