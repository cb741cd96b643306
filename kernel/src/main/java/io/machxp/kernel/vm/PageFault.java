package io.machxp.kernel.vm;

import io.machxp.kernel.core.KernelError;

/**
 * A request parked until the pager answers for its object or page: resumed when the data (or the
 * object) is ready, failed when the pager says it cannot be had.
 */
public interface PageFault {
    void resume();

    void fail(KernelError error);

    /** A fault from two callbacks. */
    static PageFault of(Runnable resume, java.util.function.Consumer<KernelError> fail) {
        return new PageFault() {
            @Override
            public void resume() {
                resume.run();
            }

            @Override
            public void fail(KernelError error) {
                fail.accept(error);
            }
        };
    }
}
