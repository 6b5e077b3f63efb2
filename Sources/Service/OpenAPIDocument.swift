import Foundation
import HTTP

/// The OpenAPI 3.1 document of every endpoint, served at `GET /openapi.json` with the served model's name and class
/// count filled in (so a generated client, and Schemathesis, know the one valid model name, the `top_k` range and
/// the most images a request may carry). This file is the document; edit it here.
public enum OpenAPIDocument {
    public static func json(modelName: String, classes: Int, maxImages: Int) -> String {
        template.replacingOccurrences(of: "__MODEL__", with: String(HTTPResponse.jsonStringLiteral(modelName).dropFirst().dropLast()))
            .replacingOccurrences(of: "__CLASSES__", with: String(classes))
            .replacingOccurrences(of: "__MAX_IMAGES__", with: String(maxImages))
            .replacingOccurrences(of: "__VERSION__", with: ServiceInfo.version)
    }

    static let template = #"""
        {
         "openapi": "3.1.0",
         "info": {
          "title": "seresnet",
          "version": "__VERSION__",
          "description": "SE-ResNet-50 ImageNet classification over HTTP/1.1: the service's own /classify, the Open Inference Protocol v2 (KServe v2 / Triton HTTP, with the binary tensor and classification extensions) and KServe v1.",
          "license": {
           "name": "See the repository"
          }
         },
         "tags": [
          {
           "name": "service"
          },
          {
           "name": "classify"
          },
          {
           "name": "open-inference-v2"
          },
          {
           "name": "kserve-v1"
          }
         ],
         "paths": {
          "/": {
           "get": {
            "summary": "Liveness for scripts; a test page for browsers",
            "operationId": "root",
            "tags": [
             "service"
            ],
            "responses": {
             "200": {
              "description": "JSON for API clients; an HTML page when the client accepts text/html.",
              "content": {
               "application/json": {
                "schema": {
                 "type": "object",
                 "required": [
                  "status"
                 ],
                 "properties": {
                  "status": {
                   "type": "string"
                  }
                 }
                }
               },
               "text/html": {
                "schema": {
                 "type": "string"
                }
               }
              }
             }
            }
           }
          },
          "/healthz": {
           "get": {
            "summary": "Liveness: the process answers",
            "operationId": "healthz",
            "tags": [
             "service"
            ],
            "responses": {
             "200": {
              "description": "Alive.",
              "content": {
               "application/json": {
                "schema": {
                 "type": "object",
                 "required": [
                  "status"
                 ],
                 "properties": {
                  "status": {
                   "const": "ok"
                  }
                 }
                }
               }
              }
             }
            }
           }
          },
          "/readyz": {
           "get": {
            "summary": "Readiness: model loaded and warmed up, not draining",
            "operationId": "readyz",
            "tags": [
             "service"
            ],
            "responses": {
             "200": {
              "description": "Ready.",
              "content": {
               "application/json": {
                "schema": {
                 "type": "object",
                 "required": [
                  "status"
                 ],
                 "properties": {
                  "status": {
                   "const": "ready"
                  }
                 }
                }
               }
              }
             },
             "503": {
              "description": "Loading (not_ready) or shutting down (shutting_down).",
              "content": {
               "application/json": {
                "schema": {
                 "$ref": "#/components/schemas/ServiceError"
                }
               }
              },
              "headers": {
               "Retry-After": {
                "$ref": "#/components/headers/RetryAfter"
               }
              }
             }
            }
           }
          },
          "/v1/model": {
           "get": {
            "summary": "What is loaded and how it is served",
            "operationId": "modelDescription",
            "tags": [
             "service"
            ],
            "responses": {
             "200": {
              "description": "The model, its preprocessing, engine plan and serving settings.",
              "content": {
               "application/json": {
                "schema": {
                 "$ref": "#/components/schemas/ModelDescription"
                }
               }
              }
             },
             "503": {
              "description": "The model is still loading.",
              "content": {
               "application/json": {
                "schema": {
                 "$ref": "#/components/schemas/ServiceError"
                }
               }
              },
              "headers": {
               "Retry-After": {
                "$ref": "#/components/headers/RetryAfter"
               }
              }
             }
            }
           }
          },
          "/metrics": {
           "get": {
            "summary": "Prometheus metrics (text format 0.0.4)",
            "operationId": "metrics",
            "tags": [
             "service"
            ],
            "responses": {
             "200": {
              "description": "Exposition text.",
              "content": {
               "text/plain": {
                "schema": {
                 "type": "string"
                }
               }
              }
             }
            }
           }
          },
          "/openapi.json": {
           "get": {
            "summary": "This document",
            "operationId": "openapi",
            "tags": [
             "service"
            ],
            "responses": {
             "200": {
              "description": "OpenAPI 3.1 document.",
              "content": {
               "application/json": {
                "schema": {
                 "type": "object"
                }
               }
              }
             }
            }
           }
          },
          "/classify": {
           "post": {
            "summary": "Classify one JPEG",
            "operationId": "classify",
            "tags": [
             "classify"
            ],
            "description": "The JPEG is the raw body (curl --data-binary @cat.jpg) or the first file part of a multipart form (curl -F file=@cat.jpg). What the body is is decided by sniffing, not by its Content-Type.",
            "parameters": [
             {
              "$ref": "#/components/parameters/top_k"
             }
            ],
            "requestBody": {
             "required": true,
             "content": {
              "image/jpeg": {
               "schema": {
                "type": "string",
                "format": "binary"
               }
              },
              "application/octet-stream": {
               "schema": {
                "type": "string",
                "format": "binary"
               }
              },
              "multipart/form-data": {
               "schema": {
                "type": "object",
                "required": [
                 "file"
                ],
                "properties": {
                 "file": {
                  "type": "string",
                  "format": "binary"
                 }
                }
               }
              }
             }
            },
            "responses": {
             "200": {
              "description": "The top classes.",
              "content": {
               "application/json": {
                "schema": {
                 "$ref": "#/components/schemas/Classification"
                }
               }
              },
              "headers": {
               "Server-Timing": {
                "description": "Per-stage durations.",
                "schema": {
                 "type": "string"
                }
               },
               "X-Request-ID": {
                "description": "The client's X-Request-ID echoed, or a fresh one.",
                "schema": {
                 "type": "string"
                }
               }
              }
             },
             "400": {
              "description": "Malformed HTTP request.",
              "content": {
               "application/json": {
                "schema": {
                 "$ref": "#/components/schemas/ServiceError"
                }
               }
              }
             },
             "503": {
              "description": "Loading, shutting down or at capacity.",
              "content": {
               "application/json": {
                "schema": {
                 "$ref": "#/components/schemas/ServiceError"
                }
               }
              },
              "headers": {
               "Retry-After": {
                "$ref": "#/components/headers/RetryAfter"
               }
              }
             },
             "413": {
              "description": "The body is larger than --max-body-bytes.",
              "content": {
               "application/json": {
                "schema": {
                 "$ref": "#/components/schemas/ServiceError"
                }
               }
              }
             },
             "415": {
              "description": "The body is not a JPEG.",
              "content": {
               "application/json": {
                "schema": {
                 "$ref": "#/components/schemas/ServiceError"
                }
               }
              }
             },
             "422": {
              "description": "A JPEG that cannot be decoded: corrupt, truncated, unsupported, or more pixels than --max-pixels.",
              "content": {
               "application/json": {
                "schema": {
                 "$ref": "#/components/schemas/ServiceError"
                }
               }
              }
             }
            }
           }
          },
          "/v2": {
           "get": {
            "summary": "Server metadata",
            "operationId": "serverMetadata",
            "tags": [
             "open-inference-v2"
            ],
            "responses": {
             "200": {
              "description": "Name, version and protocol extensions.",
              "content": {
               "application/json": {
                "schema": {
                 "type": "object",
                 "required": [
                  "name",
                  "version",
                  "extensions"
                 ],
                 "properties": {
                  "name": {
                   "type": "string"
                  },
                  "version": {
                   "type": "string"
                  },
                  "extensions": {
                   "type": "array",
                   "items": {
                    "type": "string"
                   }
                  }
                 }
                }
               }
              }
             }
            }
           }
          },
          "/v2/": {
           "get": {
            "summary": "Server metadata",
            "operationId": "serverMetadataSlash",
            "tags": [
             "open-inference-v2"
            ],
            "responses": {
             "200": {
              "description": "Name, version and protocol extensions.",
              "content": {
               "application/json": {
                "schema": {
                 "type": "object",
                 "required": [
                  "name",
                  "version",
                  "extensions"
                 ],
                 "properties": {
                  "name": {
                   "type": "string"
                  },
                  "version": {
                   "type": "string"
                  },
                  "extensions": {
                   "type": "array",
                   "items": {
                    "type": "string"
                   }
                  }
                 }
                }
               }
              }
             }
            }
           }
          },
          "/v2/health/live": {
           "get": {
            "summary": "Server liveness",
            "operationId": "serverLive",
            "tags": [
             "open-inference-v2"
            ],
            "responses": {
             "200": {
              "description": "Live.",
              "content": {
               "application/json": {
                "schema": {
                 "type": "object",
                 "required": [
                  "live"
                 ],
                 "properties": {
                  "live": {
                   "type": "boolean"
                  }
                 }
                }
               }
              }
             }
            }
           }
          },
          "/v2/health/ready": {
           "get": {
            "summary": "Server readiness (503 while loading or draining)",
            "operationId": "serverReady",
            "tags": [
             "open-inference-v2"
            ],
            "responses": {
             "200": {
              "description": "Ready.",
              "content": {
               "application/json": {
                "schema": {
                 "type": "object",
                 "required": [
                  "ready"
                 ],
                 "properties": {
                  "ready": {
                   "type": "boolean"
                  }
                 }
                }
               }
              }
             },
             "503": {
              "description": "Loading or shutting down.",
              "content": {
               "application/json": {
                "schema": {
                 "$ref": "#/components/schemas/ProtocolError"
                }
               }
              },
              "headers": {
               "Retry-After": {
                "$ref": "#/components/headers/RetryAfter"
               }
              }
             }
            }
           }
          },
          "/v2/models": {
           "get": {
            "summary": "Models served (a KServe extension)",
            "operationId": "modelList",
            "tags": [
             "open-inference-v2"
            ],
            "responses": {
             "200": {
              "description": "Model names.",
              "content": {
               "application/json": {
                "schema": {
                 "$ref": "#/components/schemas/ModelList"
                }
               }
              }
             },
             "503": {
              "description": "Loading.",
              "content": {
               "application/json": {
                "schema": {
                 "$ref": "#/components/schemas/ProtocolError"
                }
               }
              },
              "headers": {
               "Retry-After": {
                "$ref": "#/components/headers/RetryAfter"
               }
              }
             }
            }
           }
          },
          "/v2/models/{model}": {
           "get": {
            "summary": "Model metadata",
            "operationId": "modelMetadata",
            "tags": [
             "open-inference-v2"
            ],
            "parameters": [
             {
              "$ref": "#/components/parameters/model"
             }
            ],
            "responses": {
             "200": {
              "description": "Inputs, outputs and properties.",
              "content": {
               "application/json": {
                "schema": {
                 "$ref": "#/components/schemas/ModelMetadata"
                }
               }
              }
             },
             "400": {
              "$ref": "#/components/responses/ProtocolBadRequest"
             },
             "404": {
              "$ref": "#/components/responses/ProtocolNotFound"
             },
             "503": {
              "$ref": "#/components/responses/ProtocolUnavailable"
             }
            }
           }
          },
          "/v2/models/{model}/ready": {
           "get": {
            "summary": "Model readiness",
            "operationId": "modelReady",
            "tags": [
             "open-inference-v2"
            ],
            "parameters": [
             {
              "$ref": "#/components/parameters/model"
             }
            ],
            "responses": {
             "200": {
              "description": "Ready.",
              "content": {
               "application/json": {
                "schema": {
                 "type": "object",
                 "required": [
                  "name",
                  "ready"
                 ],
                 "properties": {
                  "name": {
                   "type": "string"
                  },
                  "ready": {
                   "type": "boolean"
                  }
                 }
                }
               }
              }
             },
             "400": {
              "$ref": "#/components/responses/ProtocolBadRequest"
             },
             "404": {
              "$ref": "#/components/responses/ProtocolNotFound"
             },
             "503": {
              "$ref": "#/components/responses/ProtocolUnavailable"
             }
            }
           }
          },
          "/v2/models/{model}/infer": {
           "post": {
            "summary": "Inference on a batch of JPEGs",
            "operationId": "modelInfer",
            "tags": [
             "open-inference-v2"
            ],
            "parameters": [
             {
              "$ref": "#/components/parameters/model"
             }
            ],
            "requestBody": {
             "$ref": "#/components/requestBodies/InferenceRequest"
            },
            "responses": {
             "200": {
              "$ref": "#/components/responses/InferenceResponse"
             },
             "400": {
              "$ref": "#/components/responses/ProtocolBadRequest"
             },
             "404": {
              "$ref": "#/components/responses/ProtocolNotFound"
             },
             "503": {
              "$ref": "#/components/responses/ProtocolUnavailable"
             },
             "413": {
              "$ref": "#/components/responses/ProtocolTooLarge"
             },
             "415": {
              "$ref": "#/components/responses/ProtocolNotJPEG"
             },
             "422": {
              "$ref": "#/components/responses/ProtocolUndecodable"
             }
            },
            "description": "The input `image` is BYTES with shape [B]: one JPEG per element, as base64 strings in `data` (JSON), or in the binary tensor extension (header Inference-Header-Content-Length = length of the JSON part; after it, for each element a 4-byte little-endian length and the bytes; the input's parameters.binary_data_size = their total). With Inference-Header-Content-Length: 0 (or no such header and a body that starts like a JPEG) the whole body is one JPEG (raw binary) and outputs come back binary. Output `probabilities` is FP32 [B, classes]; with parameters.classification = K it is BYTES [B, K] of \"score:index:label\", best first. parameters.binary_data (per output) or binary_data_output (per request) asks for binary outputs."
           }
          },
          "/v2/models/{model}/versions/{version}": {
           "get": {
            "summary": "Model metadata",
            "operationId": "modelMetadataVersion",
            "tags": [
             "open-inference-v2"
            ],
            "parameters": [
             {
              "$ref": "#/components/parameters/model"
             },
             {
              "$ref": "#/components/parameters/version"
             }
            ],
            "responses": {
             "200": {
              "description": "Inputs, outputs and properties.",
              "content": {
               "application/json": {
                "schema": {
                 "$ref": "#/components/schemas/ModelMetadata"
                }
               }
              }
             },
             "400": {
              "$ref": "#/components/responses/ProtocolBadRequest"
             },
             "404": {
              "$ref": "#/components/responses/ProtocolNotFound"
             },
             "503": {
              "$ref": "#/components/responses/ProtocolUnavailable"
             }
            }
           }
          },
          "/v2/models/{model}/versions/{version}/ready": {
           "get": {
            "summary": "Model readiness",
            "operationId": "modelReadyVersion",
            "tags": [
             "open-inference-v2"
            ],
            "parameters": [
             {
              "$ref": "#/components/parameters/model"
             },
             {
              "$ref": "#/components/parameters/version"
             }
            ],
            "responses": {
             "200": {
              "description": "Ready.",
              "content": {
               "application/json": {
                "schema": {
                 "type": "object",
                 "required": [
                  "name",
                  "ready"
                 ],
                 "properties": {
                  "name": {
                   "type": "string"
                  },
                  "ready": {
                   "type": "boolean"
                  }
                 }
                }
               }
              }
             },
             "400": {
              "$ref": "#/components/responses/ProtocolBadRequest"
             },
             "404": {
              "$ref": "#/components/responses/ProtocolNotFound"
             },
             "503": {
              "$ref": "#/components/responses/ProtocolUnavailable"
             }
            }
           }
          },
          "/v2/models/{model}/versions/{version}/infer": {
           "post": {
            "summary": "Inference on a batch of JPEGs",
            "operationId": "modelInferVersion",
            "tags": [
             "open-inference-v2"
            ],
            "parameters": [
             {
              "$ref": "#/components/parameters/model"
             },
             {
              "$ref": "#/components/parameters/version"
             }
            ],
            "requestBody": {
             "$ref": "#/components/requestBodies/InferenceRequest"
            },
            "responses": {
             "200": {
              "$ref": "#/components/responses/InferenceResponse"
             },
             "400": {
              "$ref": "#/components/responses/ProtocolBadRequest"
             },
             "404": {
              "$ref": "#/components/responses/ProtocolNotFound"
             },
             "503": {
              "$ref": "#/components/responses/ProtocolUnavailable"
             },
             "413": {
              "$ref": "#/components/responses/ProtocolTooLarge"
             },
             "415": {
              "$ref": "#/components/responses/ProtocolNotJPEG"
             },
             "422": {
              "$ref": "#/components/responses/ProtocolUndecodable"
             }
            },
            "description": "As POST /v2/models/{model}/infer, for version 1."
           }
          },
          "/v1/models": {
           "get": {
            "summary": "Models served (KServe v1)",
            "operationId": "v1ModelList",
            "tags": [
             "kserve-v1"
            ],
            "responses": {
             "200": {
              "description": "Model names.",
              "content": {
               "application/json": {
                "schema": {
                 "$ref": "#/components/schemas/ModelList"
                }
               }
              }
             },
             "503": {
              "description": "Loading.",
              "content": {
               "application/json": {
                "schema": {
                 "$ref": "#/components/schemas/ProtocolError"
                }
               }
              },
              "headers": {
               "Retry-After": {
                "$ref": "#/components/headers/RetryAfter"
               }
              }
             }
            }
           }
          },
          "/v1/models/{model}": {
           "get": {
            "summary": "Model readiness (KServe v1)",
            "operationId": "v1ModelReady",
            "tags": [
             "kserve-v1"
            ],
            "parameters": [
             {
              "$ref": "#/components/parameters/model"
             }
            ],
            "responses": {
             "200": {
              "description": "Ready.",
              "content": {
               "application/json": {
                "schema": {
                 "type": "object",
                 "required": [
                  "name",
                  "ready"
                 ],
                 "properties": {
                  "name": {
                   "type": "string"
                  },
                  "ready": {
                   "type": "boolean"
                  }
                 }
                }
               }
              }
             },
             "400": {
              "$ref": "#/components/responses/ProtocolBadRequest"
             },
             "404": {
              "$ref": "#/components/responses/ProtocolNotFound"
             },
             "503": {
              "$ref": "#/components/responses/ProtocolUnavailable"
             }
            }
           }
          },
          "/v1/models/{model}:predict": {
           "post": {
            "summary": "Classify JPEGs (KServe v1)",
            "operationId": "v1Predict",
            "tags": [
             "kserve-v1"
            ],
            "parameters": [
             {
              "$ref": "#/components/parameters/model"
             },
             {
              "$ref": "#/components/parameters/top_k"
             }
            ],
            "requestBody": {
             "required": true,
             "content": {
              "application/json": {
               "schema": {
                "$ref": "#/components/schemas/PredictRequest"
               }
              }
             }
            },
            "responses": {
             "200": {
              "description": "One predictions array (as /classify's) per instance.",
              "content": {
               "application/json": {
                "schema": {
                 "type": "object",
                 "required": [
                  "predictions"
                 ],
                 "properties": {
                  "predictions": {
                   "type": "array",
                   "items": {
                    "type": "array",
                    "items": {
                     "$ref": "#/components/schemas/Prediction"
                    }
                   }
                  }
                 }
                }
               }
              }
             },
             "400": {
              "$ref": "#/components/responses/ProtocolBadRequest"
             },
             "404": {
              "$ref": "#/components/responses/ProtocolNotFound"
             },
             "503": {
              "$ref": "#/components/responses/ProtocolUnavailable"
             },
             "413": {
              "$ref": "#/components/responses/ProtocolTooLarge"
             },
             "415": {
              "$ref": "#/components/responses/ProtocolNotJPEG"
             },
             "422": {
              "$ref": "#/components/responses/ProtocolUndecodable"
             }
            }
           }
          }
         },
         "components": {
          "schemas": {
           "ServiceError": {
            "type": "object",
            "required": [
             "error"
            ],
            "properties": {
             "error": {
              "type": "object",
              "required": [
               "status",
               "code",
               "message"
              ],
              "properties": {
               "status": {
                "type": "integer"
               },
               "code": {
                "type": "string"
               },
               "message": {
                "type": "string"
               }
              }
             }
            }
           },
           "ProtocolError": {
            "type": "object",
            "required": [
             "error"
            ],
            "properties": {
             "error": {
              "type": "string"
             }
            }
           },
           "Prediction": {
            "type": "object",
            "required": [
             "index",
             "label",
             "score"
            ],
            "properties": {
             "index": {
              "type": "integer",
              "minimum": 0
             },
             "label": {
              "type": "string"
             },
             "score": {
              "type": "number",
              "minimum": 0,
              "maximum": 1
             }
            }
           },
           "Classification": {
            "type": "object",
            "required": [
             "predictions",
             "model",
             "image",
             "timing_ms"
            ],
            "properties": {
             "predictions": {
              "type": "array",
              "items": {
               "$ref": "#/components/schemas/Prediction"
              }
             },
             "model": {
              "type": "string"
             },
             "image": {
              "type": "object",
              "required": [
               "width",
               "height"
              ],
              "properties": {
               "width": {
                "type": "integer"
               },
               "height": {
                "type": "integer"
               },
               "decode_scale": {
                "type": "number"
               }
              }
             },
             "timing_ms": {
              "type": "object",
              "required": [
               "queue",
               "decode",
               "preprocess",
               "inference",
               "total"
              ],
              "properties": {
               "queue": {
                "type": "number"
               },
               "decode": {
                "type": "number"
               },
               "preprocess": {
                "type": "number"
               },
               "inference": {
                "type": "number"
               },
               "total": {
                "type": "number"
               }
              }
             }
            }
           },
           "ModelDescription": {
            "type": "object",
            "required": [
             "name",
             "architecture",
             "parameters",
             "classes",
             "preprocessing",
             "weights",
             "engine",
             "serving"
            ],
            "properties": {
             "name": {
              "type": "string"
             },
             "architecture": {
              "type": "object"
             },
             "parameters": {
              "type": "integer"
             },
             "classes": {
              "type": "integer"
             },
             "preprocessing": {
              "type": "object"
             },
             "weights": {
              "type": "object",
              "required": [
               "sha256",
               "bytes"
              ],
              "properties": {
               "sha256": {
                "type": "string"
               },
               "bytes": {
                "type": "integer"
               }
              }
             },
             "engine": {
              "type": "object"
             },
             "serving": {
              "type": "object"
             }
            }
           },
           "ModelList": {
            "type": "object",
            "required": [
             "models"
            ],
            "properties": {
             "models": {
              "type": "array",
              "items": {
               "type": "string"
              }
             }
            }
           },
           "TensorMetadata": {
            "type": "object",
            "required": [
             "name",
             "datatype",
             "shape"
            ],
            "properties": {
             "name": {
              "type": "string"
             },
             "datatype": {
              "type": "string"
             },
             "shape": {
              "type": "array",
              "items": {
               "type": "integer"
              }
             }
            }
           },
           "ModelMetadata": {
            "type": "object",
            "required": [
             "name",
             "versions",
             "platform",
             "inputs",
             "outputs"
            ],
            "properties": {
             "name": {
              "type": "string"
             },
             "versions": {
              "type": "array",
              "items": {
               "type": "string"
              }
             },
             "platform": {
              "type": "string"
             },
             "inputs": {
              "type": "array",
              "items": {
               "$ref": "#/components/schemas/TensorMetadata"
              }
             },
             "outputs": {
              "type": "array",
              "items": {
               "$ref": "#/components/schemas/TensorMetadata"
              }
             },
             "properties": {
              "type": "object",
              "additionalProperties": {
               "type": "string"
              }
             }
            }
           },
           "Parameters": {
            "type": "object",
            "additionalProperties": {
             "oneOf": [
              {
               "type": "boolean"
              },
              {
               "type": "integer"
              },
              {
               "type": "number"
              },
              {
               "type": "string"
              }
             ]
            }
           },
           "InferenceRequest": {
            "type": "object",
            "required": [
             "inputs"
            ],
            "properties": {
             "id": {
              "type": "string"
             },
             "parameters": {
              "$ref": "#/components/schemas/Parameters"
             },
             "inputs": {
              "type": "array",
              "minItems": 1,
              "maxItems": 1,
              "items": {
               "type": "object",
               "required": [
                "name",
                "shape",
                "datatype"
               ],
               "properties": {
                "name": {
                 "type": "string",
                 "enum": [
                  "image"
                 ]
                },
                "shape": {
                 "type": "array",
                 "minItems": 1,
                 "maxItems": 2,
                 "items": {
                  "type": "integer",
                  "minimum": 1,
                  "maximum": __MAX_IMAGES__
                 }
                },
                "datatype": {
                 "type": "string",
                 "enum": [
                  "BYTES"
                 ]
                },
                "parameters": {
                 "$ref": "#/components/schemas/Parameters"
                },
                "data": {
                 "type": "array",
                 "description": "Base64 strings, one per image (may be nested).",
                 "items": {}
                }
               }
              }
             },
             "outputs": {
              "type": "array",
              "items": {
               "type": "object",
               "required": [
                "name"
               ],
               "properties": {
                "name": {
                 "type": "string",
                 "enum": [
                  "probabilities"
                 ]
                },
                "parameters": {
                 "$ref": "#/components/schemas/Parameters"
                }
               }
              }
             }
            }
           },
           "InferenceResponse": {
            "type": "object",
            "required": [
             "model_name",
             "outputs"
            ],
            "properties": {
             "model_name": {
              "type": "string"
             },
             "model_version": {
              "type": "string"
             },
             "id": {
              "type": "string"
             },
             "outputs": {
              "type": "array",
              "items": {
               "type": "object",
               "required": [
                "name",
                "datatype",
                "shape"
               ],
               "properties": {
                "name": {
                 "type": "string"
                },
                "datatype": {
                 "type": "string",
                 "enum": [
                  "FP32",
                  "BYTES"
                 ]
                },
                "shape": {
                 "type": "array",
                 "items": {
                  "type": "integer"
                 }
                },
                "parameters": {
                 "$ref": "#/components/schemas/Parameters"
                },
                "data": {
                 "type": "array"
                }
               }
              }
             }
            }
           },
           "PredictRequest": {
            "type": "object",
            "required": [
             "instances"
            ],
            "properties": {
             "instances": {
              "type": "array",
              "minItems": 1,
              "items": {
               "type": "object",
               "properties": {
                "image": {
                 "oneOf": [
                  {
                   "type": "object",
                   "required": [
                    "b64"
                   ],
                   "properties": {
                    "b64": {
                     "type": "string"
                    }
                   }
                  },
                  {
                   "type": "string"
                  }
                 ]
                },
                "b64": {
                 "type": "string"
                }
               }
              }
             }
            }
           }
          },
          "responses": {
           "ProtocolBadRequest": {
            "description": "Malformed request; the message names the field or element.",
            "content": {
             "application/json": {
              "schema": {
               "$ref": "#/components/schemas/ProtocolError"
              }
             }
            }
           },
           "ProtocolNotFound": {
            "description": "Unknown model or version.",
            "content": {
             "application/json": {
              "schema": {
               "$ref": "#/components/schemas/ProtocolError"
              }
             }
            }
           },
           "ProtocolUnavailable": {
            "description": "Not ready, shutting down or at capacity.",
            "content": {
             "application/json": {
              "schema": {
               "$ref": "#/components/schemas/ProtocolError"
              }
             }
            },
            "headers": {
             "Retry-After": {
              "$ref": "#/components/headers/RetryAfter"
             }
            }
           },
           "InferenceResponse": {
            "description": "Outputs, in JSON or (binary data asked for) JSON then binary, with Inference-Header-Content-Length.",
            "content": {
             "application/json": {
              "schema": {
               "$ref": "#/components/schemas/InferenceResponse"
              }
             },
             "application/octet-stream": {
              "schema": {
               "type": "string",
               "format": "binary"
              }
             }
            }
           },
           "ProtocolTooLarge": {
            "description": "Body larger than --max-body-bytes, or more images than --max-batch-images.",
            "content": {
             "application/json": {
              "schema": {
               "$ref": "#/components/schemas/ProtocolError"
              }
             }
            }
           },
           "ProtocolNotJPEG": {
            "description": "An element is not a JPEG; the message names its index.",
            "content": {
             "application/json": {
              "schema": {
               "$ref": "#/components/schemas/ProtocolError"
              }
             }
            }
           },
           "ProtocolUndecodable": {
            "description": "An element's JPEG cannot be decoded; the message names its index.",
            "content": {
             "application/json": {
              "schema": {
               "$ref": "#/components/schemas/ProtocolError"
              }
             }
            }
           }
          },
          "headers": {
           "RetryAfter": {
            "description": "Seconds to wait before retrying.",
            "schema": {
             "type": "string",
             "pattern": "^[0-9]+$"
            }
           }
          },
          "parameters": {
           "model": {
            "name": "model",
            "in": "path",
            "required": true,
            "description": "The served model's name (GET /v2/models lists it).",
            "schema": {
             "type": "string",
             "enum": [
              "__MODEL__"
             ]
            }
           },
           "version": {
            "name": "version",
            "in": "path",
            "required": true,
            "description": "The model version; only \"1\" is served.",
            "schema": {
             "type": "string",
             "enum": [
              "1"
             ]
            }
           },
           "top_k": {
            "name": "top_k",
            "in": "query",
            "required": false,
            "description": "How many classes to return, best first (default 5).",
            "schema": {
             "type": "integer",
             "minimum": 1,
             "maximum": __CLASSES__
            }
           }
          },
          "requestBodies": {
           "InferenceRequest": {
            "required": true,
            "content": {
             "application/json": {
              "schema": {
               "$ref": "#/components/schemas/InferenceRequest"
              }
             },
             "application/octet-stream": {
              "schema": {
               "type": "string",
               "format": "binary"
              }
             }
            }
           }
          }
         }
        }
        """#
}
