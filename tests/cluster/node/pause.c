/* The real node's sandbox ("pause") program: holds a pod's namespaces open and does nothing
 * else. It sleeps until SIGINT or SIGTERM (then exits 0) and reaps any child that ends up
 * parented to it (a pod sharing its process namespace makes it PID 1). Built static by
 * tests/cluster/images, so the image is this one file. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void quit(int sig) { (void)sig; _exit(0); }

static void reap(int sig)
{
    (void)sig;
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
}

int main(void)
{
    struct sigaction stop = {.sa_handler = quit}, child = {.sa_handler = reap,
                                                            .sa_flags = SA_NOCLDSTOP};
    sigaction(SIGINT, &stop, NULL);
    sigaction(SIGTERM, &stop, NULL);
    sigaction(SIGCHLD, &child, NULL);
    for (;;)
        pause();
}
