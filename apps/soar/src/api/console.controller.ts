import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Controller, Get, Header, Res } from '@nestjs/common';
import type { Response } from 'express';

/** apps/soar/console, from src/api (tests) and dist/api (built) alike. */
export const CONSOLE_DIR = resolve(__dirname, '..', '..', 'console');

const FILES = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
} as const;

/** Serves the analyst console: three static files read once at start, nothing else from disk. */
@Controller('console')
export class ConsoleController {
  private readonly files = new Map<string, Buffer>(Object.keys(FILES).map((f) => [f, readFileSync(resolve(CONSOLE_DIR, f))]));

  private send(res: Response, name: keyof typeof FILES): void {
    res.setHeader('Content-Type', FILES[name]);
    res.setHeader('Cache-Control', 'no-cache');
    res.send(this.files.get(name));
  }

  @Get()
  @Header('X-Robots-Tag', 'noindex')
  index(@Res() res: Response): void {
    this.send(res, 'index.html');
  }

  @Get('app.js')
  script(@Res() res: Response): void {
    this.send(res, 'app.js');
  }

  @Get('favicon.svg')
  icon(@Res() res: Response): void {
    this.send(res, 'favicon.svg');
  }

  @Get('app.css')
  style(@Res() res: Response): void {
    this.send(res, 'app.css');
  }
}
