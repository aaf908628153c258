// Waiting for something until a deadline (shutdown: requests, inserts, the start's key repair).

/** `promise`'s value, or 'timeout' once `deadline` (a performance.now() time) has passed. */
export async function within<T>(promise: Promise<T>, deadline: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - performance.now()));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
