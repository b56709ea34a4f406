// A new activation in the lab: swish with a parameter, x sigmoid(beta x),
// registered beside the builtins. etape-lab's whole command line comes with
// it, and its derivative is checked before anything trains. Run ./lab_swish:
// it compares swish:beta=1.5, swish:beta=0.5, elu and relu unless
// --activations says otherwise (--help lists every flag).
#include <cmath>

#include <etape/lab/run.hpp>

struct swish_op {
    static constexpr etape::derivative_source source = etape::derivative_source::input;
    double beta = 1;

    template <class T>
    T primal(T x) const
    {
        return x / (1 + std::exp(-T(beta) * x));
    }
    template <class T>
    T partial(T x, T) const
    {
        const T s = 1 / (1 + std::exp(-T(beta) * x));
        return s + T(beta) * x * s * (1 - s);
    }
};

int main(int argc, char** argv)
{
    etape::lab::registry activations = etape::lab::registry::builtin();
    activations.add("swish", {{"beta", 1.0}}, etape::nn::weight_init::he_normal,
                    [](auto values) { return etape::lab::applies<swish_op>{{values[0]}}; });
    return etape::lab::run(argc, argv, activations, {.activations = "swish:beta=1.5,swish:beta=0.5,elu,relu"});
}
