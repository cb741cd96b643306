package io.machxp.proto.shm;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import jdk.incubator.foreign.CLinker;
import jdk.incubator.foreign.FunctionDescriptor;
import jdk.incubator.foreign.MemoryAddress;
import jdk.incubator.foreign.MemoryHandles;
import jdk.incubator.foreign.MemorySegment;
import jdk.incubator.foreign.ResourceScope;

/**
 * Linux's {@code CLOCK_MONOTONIC_COARSE} through Java 17's incubating foreign linker: libc's
 * {@code clock_gettime} into a {@code struct timespec} of the calling thread's (two 64-bit words
 * on a 64-bit Linux, held by the thread's {@link TaskClock.Lane}), about 10 ns a read. Loaded only by {@link TaskClock}, by reflection, when
 * the JVM has the module: its constructor throws if native access is refused
 * ({@code IllegalCallerException} without {@code --enable-native-access}) or libc lacks the symbol.
 */
final class CoarseMonotonic extends TaskClock.Coarse {
    /** {@code CLOCK_MONOTONIC_COARSE} in Linux's {@code <time.h>}, the same on every architecture. */
    private static final int CLOCK_MONOTONIC_COARSE = 6;
    private static final VarHandle WORD = MemoryHandles.varHandle(long.class, ByteOrder.nativeOrder());
    private static final MethodHandle GETTIME = bind("clock_gettime");
    private static final MethodHandle GETRES = bind("clock_getres");

    /** A thread's lane with its own timespec: two threads sharing one could mix the seconds of one read with the ns of another. */
    private static final class Timespec extends TaskClock.Lane {
        final MemorySegment timespec = MemorySegment.allocateNative(16, 8, ResourceScope.newImplicitScope());
    }

    CoarseMonotonic() {
        if (nanos(newLane()) == TaskClock.FAILED) {
            throw new IllegalStateException("clock_gettime(CLOCK_MONOTONIC_COARSE) failed");
        }
    }

    private static MethodHandle bind(String function) {
        return CLinker.getInstance().downcallHandle(CLinker.systemLookup().lookup(function).orElseThrow(),
                MethodType.methodType(int.class, int.class, MemoryAddress.class),
                FunctionDescriptor.of(CLinker.C_INT, CLinker.C_INT, CLinker.C_POINTER));
    }

    @Override
    TaskClock.Lane newLane() {
        return new Timespec();
    }

    @Override
    long nanos(TaskClock.Lane lane) {
        return read(GETTIME, ((Timespec) lane).timespec);
    }

    @Override
    long resolution(TaskClock.Lane lane) {
        long r = read(GETRES, ((Timespec) lane).timespec);
        return r == TaskClock.FAILED ? -1 : r;
    }

    private static long read(MethodHandle call, MemorySegment timespec) {
        int rc;
        try {
            rc = (int) call.invokeExact(CLOCK_MONOTONIC_COARSE, timespec.address());
        } catch (Throwable e) {
            return TaskClock.FAILED;
        }
        return rc != 0 ? TaskClock.FAILED
                : (long) WORD.get(timespec, 0L) * 1_000_000_000L + (long) WORD.get(timespec, 8L);
    }
}
