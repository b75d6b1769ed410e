// Uses the installed library the way a user would: one header, one target. Computes
// y = sum(a @ b) and checks the forward value and the gradient against values worked by hand.
#include <dendrite/dendrite.h>

#include <cmath>
#include <cstdio>
#include <vector>

namespace dd = dendrite;

int main() {
  try {
    dd::Tensor a = dd::tensor<float>({1, 2, 3, 4}, {2, 2}).requires_grad_();
    dd::Tensor b = dd::tensor<float>({5, 6, 7, 8}, {2, 2});
    dd::Tensor y = a.matmul(b).sum();
    y.backward();
    // a @ b = [[19, 22], [43, 50]] sums to 134; d sum / d a[i][k] = sum_j b[k][j] = [11, 15].
    const std::vector<float> grad = dd::to_vector<float>(a.grad());
    const std::vector<float> expected = {11, 15, 11, 15};
    bool ok = std::fabs(y.item<float>() - 134.0f) < 1e-4f;
    for (size_t i = 0; i < expected.size(); ++i) ok = ok && std::fabs(grad[i] - expected[i]) < 1e-4f;
    std::printf("sum(a @ b) = %g, grad(a) = [%g, %g, %g, %g]: %s\n", static_cast<double>(y.item<float>()),
                static_cast<double>(grad[0]), static_cast<double>(grad[1]), static_cast<double>(grad[2]),
                static_cast<double>(grad[3]), ok ? "ok" : "WRONG");
    return ok ? 0 : 1;
  } catch (const dd::Error& e) {
    std::fprintf(stderr, "dendrite error: %s\n", e.what());
    return 1;
  }
}
