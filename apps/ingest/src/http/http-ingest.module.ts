import { Module } from '@nestjs/common';
import { HttpIngestController } from './hec.controller';
import { RawEventProducer } from './raw-producer';

/** HEC-compatible and NDJSON ingest over HTTP; present when INGEST_HEC_TOKENS is set. */
@Module({ controllers: [HttpIngestController], providers: [RawEventProducer] })
export class HttpIngestModule {}

/** Paths whose bodies the controller reads itself (the JSON body parser skips them). */
export const RAW_BODY_PATHS = ['/services/collector', '/api/v1/events'] as const;
