package io.machxp.kernel.task;

import io.machxp.kernel.futex.FutexWord;

/**
 * TIDs unique across the kernels of one pager, and small enough for the futex word:
 * <pre>
 *  29           20 19                        0
 * +---------------+---------------------------+
 * |  kernel id    |   thread number in kernel |     = TID, fits FUTEX_TID_MASK (30 bits)
 * +---------------+---------------------------+
 * </pre>
 * The pager hands out kernel ids 1..1023 (kernel_hello / pager_welcome); thread numbers start
 * at 1, so no TID is 0.
 */
public final class Tids {
    public static final int THREAD_BITS = 20;
    public static final int MAX_KERNEL_ID = (FutexWord.TID_MASK >>> THREAD_BITS); // 1023
    /** One less than the field allows: TID_MASK itself is never a TID (see NOT_RECOVERABLE). */
    public static final int MAX_THREAD_NUMBER = (1 << THREAD_BITS) - 2;

    private Tids() {}

    public static int tid(int kernelId, int threadNumber) {
        if (kernelId < 1 || kernelId > MAX_KERNEL_ID || threadNumber < 1 || threadNumber > MAX_THREAD_NUMBER) {
            throw new IllegalArgumentException("kernel " + kernelId + " thread " + threadNumber);
        }
        return (kernelId << THREAD_BITS) | threadNumber;
    }

    public static int kernelId(int tid) {
        return (tid & FutexWord.TID_MASK) >>> THREAD_BITS;
    }
}
