/* A straightforward compiled scalar loop for the 2-2-2 network of docs/design.md, the yardstick
 * of benchmarks/bench_train.py. One network at a time, one step at a time, no tricks:
 * what a C programmer would write first. Built at run time with
 *     gcc -O3 -march=native -shared -fPIC scalar_loop.c -o scalar_loop.so -lm
 * and called through ctypes.
 *
 * loss is row-major (iterations, K): loss[t * K + k] is E_total of learning rate k after t
 * updates (row 0 before any update), simultaneous updates, no biases: the course's sheet.
 */
#include <math.h>

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

void train_curves(const double *lrs, int K, int iterations, const double *w0,
                  const double *inputs, const double *targets, double *loss)
{
    const double i1 = inputs[0], i2 = inputs[1], t1 = targets[0], t2 = targets[1];
    for (int k = 0; k < K; k++) {
        const double lr = lrs[k];
        double w1 = w0[0], w2 = w0[1], w3 = w0[2], w4 = w0[3];
        double w5 = w0[4], w6 = w0[5], w7 = w0[6], w8 = w0[7];
        for (int t = 0; t < iterations; t++) {
            /* forward */
            double a_h1 = sigmoid(w1 * i1 + w2 * i2);
            double a_h2 = sigmoid(w3 * i1 + w4 * i2);
            double a_o1 = sigmoid(w5 * a_h1 + w6 * a_h2);
            double a_o2 = sigmoid(w7 * a_h1 + w8 * a_h2);
            loss[(long)t * K + k] = 0.5 * (t1 - a_o1) * (t1 - a_o1) + 0.5 * (t2 - a_o2) * (t2 - a_o2);
            if (t == iterations - 1)
                break;
            /* backward: delta_o = (a_o - t) * a_o * (1 - a_o); delta_h through w5..w8 */
            double d_o1 = (a_o1 - t1) * a_o1 * (1.0 - a_o1);
            double d_o2 = (a_o2 - t2) * a_o2 * (1.0 - a_o2);
            double d_h1 = (d_o1 * w5 + d_o2 * w7) * a_h1 * (1.0 - a_h1);
            double d_h2 = (d_o1 * w6 + d_o2 * w8) * a_h2 * (1.0 - a_h2);
            /* simultaneous update: every gradient above came from the same forward pass */
            w1 -= lr * d_h1 * i1; w2 -= lr * d_h1 * i2;
            w3 -= lr * d_h2 * i1; w4 -= lr * d_h2 * i2;
            w5 -= lr * d_o1 * a_h1; w6 -= lr * d_o1 * a_h2;
            w7 -= lr * d_o2 * a_h1; w8 -= lr * d_o2 * a_h2;
        }
    }
}
