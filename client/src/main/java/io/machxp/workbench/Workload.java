package io.machxp.workbench;

import java.util.SplittableRandom;

/**
 * Which futex a worker locks next, and at what priority its threads run. A worker is thread
 * {@code thread} of kernel {@code kernel}; futex i is homed on kernel i mod kernels.
 *
 * <ul>
 *   <li>locality P: the worker's home futexes with probability P, else any other;
 *   <li>alternation: the futex most recently acquired by a worker of another kernel (every
 *       operation a handoff while there is one; {@link Alternation}, shared with machxp bench);
 *   <li>zipf S: futex ranks drawn from a Zipf distribution of exponent S;
 *   <li>convoy: every worker on futex 0;
 *   <li>priority-mix P: locality P, with the threads of each kernel at priorities 10, 50, 90, ...
 * </ul>
 */
public final class Workload {
    private final String name;
    private final double param;
    private final int kernels;
    private final int futexes;
    private final double[] zipfCdf;
    /** Per futex: the kernel that acquired it last, and when (alternation). */
    private final int[] lastKernel;
    private final long[] lastTime;

    public Workload(String name, double param, int kernels, int futexes) {
        if (!java.util.List.of("locality", "alternation", "zipf", "convoy", "priority-mix").contains(name)) {
            throw new IllegalArgumentException("no workload '" + name + "'; the workloads are locality, alternation, "
                    + "zipf, convoy and priority-mix");
        }
        this.name = name;
        this.param = param;
        this.kernels = kernels;
        this.futexes = futexes;
        this.zipfCdf = new double[futexes];
        double sum = 0;
        for (int i = 0; i < futexes; i++) {
            sum += 1 / Math.pow(i + 1, name.equals("zipf") ? param : 1);
            zipfCdf[i] = sum;
        }
        for (int i = 0; i < futexes; i++) {
            zipfCdf[i] /= sum;
        }
        this.lastKernel = new int[futexes];
        this.lastTime = new long[futexes];
        java.util.Arrays.fill(lastKernel, -1);
    }

    public String name() {
        return name;
    }

    /** The futex a worker of {@code kernel} locks next. */
    int next(int kernel, SplittableRandom random) {
        switch (name) {
            case "convoy":
                return 0;
            case "zipf": {
                double u = random.nextDouble();
                for (int i = 0; i < futexes; i++) {
                    if (u <= zipfCdf[i]) {
                        return i;
                    }
                }
                return futexes - 1;
            }
            case "alternation":
                return Alternation.next(kernel, futexes, f -> lastKernel[f], f -> lastTime[f], random);
            default:
                return local(kernel, random);
        }
    }

    private int local(int kernel, SplittableRandom random) {
        int homes = (futexes - kernel + kernels - 1) / kernels;
        boolean home = homes > 0 && (random.nextDouble() < param || kernels == 1);
        while (true) {
            int f = random.nextInt(futexes);
            if ((f % kernels == kernel) == home || homes == 0 || homes == futexes) {
                return f;
            }
        }
    }

    /** The kernel that acquired futex {@code f} last, or -1. */
    int lastKernel(int f) {
        return lastKernel[f];
    }

    /** A worker of {@code kernel} acquired futex {@code f} at {@code time}. */
    void acquired(int f, int kernel, long time) {
        lastKernel[f] = kernel;
        lastTime[f] = time;
    }

    /** The priority of a kernel's thread number {@code thread}. */
    int priority(int thread) {
        return name.equals("priority-mix") ? new int[] {10, 50, 90}[thread % 3] : 50;
    }
}
