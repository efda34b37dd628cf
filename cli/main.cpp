// Temporary entry point while the CLI is being written (replaced in the same session).
#include <cstdio>
int main() { std::puts("llmeval " LLMEVAL_VERSION); return 0; }
